"""How well the speech and candidate finders do on an article whose seed file a person
curated: recall (a curated action is found when one candidate covers at least half of its
quote's characters), candidates per curated action, and the speakers found with their
units."""

from dataclasses import dataclass
from pathlib import Path

from app.seeding.service import load_plan
from app.sources.candidates import Candidate, find_candidates
from app.sources.draft import speech_spans
from app.sources.speeches import detect_speeches, resolve_unit


@dataclass(frozen=True)
class Evaluation:
    """The figures for one article."""

    name: str
    curated: int
    found: int
    candidates: int
    speakers: int
    speakers_found: int
    missed_quotes: list[str]
    missed_speakers: list[str]

    @property
    def recall(self) -> float:
        return self.found / self.curated if self.curated else 1.0

    @property
    def per_action(self) -> float:
        return self.candidates / self.curated if self.curated else float(self.candidates)

    def lines(self) -> list[str]:
        """The figures as a person reads them, the misses last."""
        return [
            f"{self.name}: recall {self.found}/{self.curated} = {self.recall:.0%}, "
            f"{self.candidates} candidates = {self.per_action:.2f} per curated action, "
            f"speakers with their units {self.speakers_found}/{self.speakers}",
            *(f"  missed quote: {quote}" for quote in self.missed_quotes),
            *(f"  missed speaker: {speaker}" for speaker in self.missed_speakers),
        ]


def covers(candidate: Candidate, start: int, end: int) -> bool:
    """Whether a candidate covers at least half of the characters of [start, end)."""
    overlap = min(candidate.quote_end, end) - max(candidate.quote_start, start)
    return overlap * 2 >= end - start


def evaluate(seed_file: Path) -> Evaluation:
    """Run the finders on the text of a curated seed file and score them against it."""
    plan = load_plan(seed_file)
    speeches = detect_speeches(plan.text)
    candidates = find_candidates(plan.text, speech_spans(speeches))
    missed = [
        action.quote
        for action in plan.actions
        if not any(covers(c, action.quote_start, action.quote_end) for c in candidates)
    ]
    unit_names = [unit.name for unit in plan.units]
    found_speakers = {(s.speaker, resolve_unit(s, unit_names)) for s in speeches}
    missed_speakers = [
        f"{s.speaker} ({s.unit})"
        for s in plan.speeches
        if (s.speaker, s.unit) not in found_speakers
    ]
    return Evaluation(
        name=seed_file.name,
        curated=len(plan.actions),
        found=len(plan.actions) - len(missed),
        candidates=len(candidates),
        speakers=len(plan.speeches),
        speakers_found=len(plan.speeches) - len(missed_speakers),
        missed_quotes=missed,
        missed_speakers=missed_speakers,
    )
