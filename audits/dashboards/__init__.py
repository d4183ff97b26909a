"""Managers' pages: audit results, project trends, the portfolio and audit comparison, charted with Plotly."""
