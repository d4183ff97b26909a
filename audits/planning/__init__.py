"""The path to the next band for an audit: rubric.planning's plan with the audit's owners, evidence and
labels (selectors), as the questionnaire panel, the result page, the export and the API show it."""
