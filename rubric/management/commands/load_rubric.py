from django.core.management.base import BaseCommand, CommandError, CommandParser

from rubric.loader import RubricFileError, load_rubric_file


class Command(BaseCommand):
    help = "Load a rubric data file (YAML or JSON). Loading the same file twice changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="rubric file(s) to load")

    def handle(self, *args: object, **options: object) -> None:
        paths = options["paths"]
        assert isinstance(paths, list)
        for path in paths:
            try:
                rubric, outcome = load_rubric_file(path)
            except RubricFileError as exc:
                raise CommandError(f"{path}: {exc}") from exc
            counts = f"{rubric.sections.count()} sections, {rubric.items.count()} items"
            self.stdout.write(f"{outcome}: {rubric.slug} version {rubric.version} ({counts})")
