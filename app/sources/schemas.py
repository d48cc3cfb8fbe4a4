"""API shapes of sources and speeches."""

from datetime import date, datetime
from itertools import pairwise
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.actions.workflow import ActionKind
from app.fields import Date, Document, Id, Line, Name, Prose, ResourceSlug

ARTICLE_EXAMPLE = (
    "对此，凌兵奎强调，要站在更高的角度上重视年轻干部培养工作，一是要培，注重德才兼备，以德为先。"
)
Offset = Annotated[int, Field(ge=0, le=5_000_000)]


class SpeechCreate(BaseModel):
    """A speech within a new source, as code-point offsets into its text."""

    model_config = ConfigDict(extra="forbid")

    heading: Name
    speaker: Name
    unit_id: Id | None = None
    start: Offset
    end: Offset

    @model_validator(mode="after")
    def _span_not_empty(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be greater than start")
        return self


class SpeechRead(BaseModel):
    """A speech: a half-open span [start, end) of the source text."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    heading: str
    speaker: str
    unit_id: int | None
    start: int
    end: int


class SourceCreate(BaseModel):
    """A new source; its text is stored exactly as sent and never changes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "slug": "ling-bingkui-remarks",
                    "title": "凌兵奎在交流汇报会上的讲话",
                    "publisher": "平顶山高新区",
                    "published_on": "2022-01-28",
                    "language": "zh-CN",
                    "text": ARTICLE_EXAMPLE,
                    "speeches": [{"heading": "讲话", "speaker": "凌兵奎", "start": 0, "end": 46}],
                }
            ]
        },
    )

    slug: ResourceSlug
    title: Name
    publisher: Name | None = None
    byline: Name | None = None
    published_on: Date | None = None
    published_on_note: Prose | None = None
    url: Line | None = None
    language: Annotated[str, Field(pattern=r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")] = "zh-CN"
    text: Document
    speeches: Annotated[
        list[SpeechCreate],
        Field(
            max_length=1000,
            description="omit to have the server find the speakers and their sections "
            "(units it matches by name, or creates); [] for none",
        ),
    ] = []

    @model_validator(mode="after")
    def _speeches_fit_text(self) -> Self:
        spans = sorted((s.start, s.end) for s in self.speeches)
        for start, end in spans:
            if end > len(self.text):
                raise ValueError(f"speech [{start}, {end}) ends past the text ({len(self.text)})")
        for (_, end), (next_start, _) in pairwise(spans):
            if next_start < end:
                raise ValueError(f"speeches overlap at offset {next_start}")
        return self


class SourceRead(BaseModel):
    """A source without its text."""

    id: int
    slug: str
    title: str
    publisher: str | None
    byline: str | None
    published_on: date | None
    published_on_note: str | None
    url: str | None
    language: str
    sha256: str
    char_count: int
    speech_count: int
    action_count: int
    created_at: datetime


class SourceDetail(SourceRead):
    """A source with its verbatim text and speeches."""

    text: str
    speeches: list[SpeechRead]


class AnnotatedSpan(BaseModel):
    """A stretch of text covered by the same set of action quotes (none for plain text)."""

    start: int
    end: int
    text: str
    action_ids: list[int]


class AnnotatedSource(BaseModel):
    """A source's text cut into spans so a client can highlight every quote."""

    source_id: int
    slug: str
    char_count: int
    spans: list[AnnotatedSpan]


class CandidateRead(BaseModel):
    """A sentence of a source that looks like a proposal (候选事项); nothing is created until
    a client posts it as an action. unit_id is the suggested owner (the speech's unit);
    action_ids the existing actions whose quotes overlap it; cues the words it scored on."""

    quote: str
    quote_start: int
    quote_end: int
    speech_id: int | None
    speaker: str | None
    unit_id: int | None
    title: str
    kind: ActionKind
    themes: list[str]
    score: int
    cues: list[str]
    action_ids: list[int]
