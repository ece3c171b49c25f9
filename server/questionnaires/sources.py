"""The questionnaire sources kept in the repository: ``xlsforms/<name>.xlsx`` with their media
files in ``xlsforms/<name>-media/``, compiled to ``forms/<name>.xml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.questionnaires.compiler import CompiledForm, compile_xlsform

REPO_ROOT = Path(__file__).resolve().parents[2]
XLSFORMS_DIR = REPO_ROOT / "xlsforms"
FORMS_DIR = REPO_ROOT / "forms"


@dataclass(frozen=True, slots=True)
class FormSource:
    name: str
    xlsx: bytes
    media: dict[str, bytes]

    @property
    def compiled_path(self) -> Path:
        return FORMS_DIR / f"{self.name}.xml"


def load_sources(directory: Path = XLSFORMS_DIR) -> list[FormSource]:
    sources = []
    for path in sorted(directory.glob("*.xlsx")):
        if path.name.startswith("~$"):  # Excel's lock files
            continue
        media_dir = directory / f"{path.stem}-media"
        media = (
            {f.name: f.read_bytes() for f in sorted(media_dir.iterdir()) if f.is_file()}
            if media_dir.is_dir()
            else {}
        )
        sources.append(FormSource(name=path.stem, xlsx=path.read_bytes(), media=media))
    return sources


def compile_source(source: FormSource, *, validate: bool) -> CompiledForm:
    return compile_xlsform(source.xlsx, file_type=".xlsx", validate=validate)
