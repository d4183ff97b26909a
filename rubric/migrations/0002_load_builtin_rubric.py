from django.db import migrations


def load_builtin(apps, schema_editor):
    from rubric.loader import BUILTIN_RUBRIC, load_rubric_file

    load_rubric_file(BUILTIN_RUBRIC, get_model=apps.get_model)


class Migration(migrations.Migration):
    dependencies = [("rubric", "0001_initial")]

    operations = [migrations.RunPython(load_builtin, migrations.RunPython.noop)]
