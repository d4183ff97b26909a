"""Write real reports with the real tools into the folder given as argument (run in a subprocess: both
packages take seconds to import and the test process does not need them).

great_expectations_pass.json / _fail.json: a validation result (to_json_dict()) of a suite on churn data,
one expectation naming its item in meta. evidently_stable.json / _drift.json: a Report with the data-drift
preset and its tests (snapshot.json()), reference vs current data.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")


def great_expectations(folder: Path) -> None:
    import great_expectations as gx
    import pandas as pd

    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("churn")
        .add_dataframe_asset("customers")
        .add_batch_definition_whole_dataframe("all")
    )
    suite = context.suites.add(gx.ExpectationSuite(name="churn-features"))
    suite.add_expectation(
        gx.expectations.ExpectColumnValuesToNotBeNull(column="tenure_months", meta={"ml_test_score": "data-1"})
    )
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(column="plan", value_set=["basic", "pro"]))
    validation = context.validation_definitions.add(gx.ValidationDefinition(name="churn", data=batch, suite=suite))
    good = pd.DataFrame({"tenure_months": [1.0, 14.0, 30.0], "plan": ["basic", "pro", "pro"]})
    bad = pd.DataFrame({"tenure_months": [1.0, None, 30.0], "plan": ["basic", "pro", "gold"]})
    for name, frame in (("pass", good), ("fail", bad)):
        result = validation.run(batch_parameters={"dataframe": frame})
        (folder / f"great_expectations_{name}.json").write_text(json.dumps(result.to_json_dict()))


def evidently(folder: Path) -> None:
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    reference = pd.DataFrame({"tenure_months": [float(n % 40) for n in range(200)], "plan": ["basic", "pro"] * 100})
    drifted = pd.DataFrame({"tenure_months": [float(40 + n % 40) for n in range(200)], "plan": ["pro"] * 200})
    for name, current in (("stable", reference.copy()), ("drift", drifted)):
        snapshot = Report([DataDriftPreset()], include_tests=True).run(reference_data=reference, current_data=current)
        (folder / f"evidently_{name}.json").write_text(snapshot.json())


if __name__ == "__main__":
    target = Path(sys.argv[1])
    great_expectations(target)
    evidently(target)
