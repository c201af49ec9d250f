"""The moderation verdict rules: media rules on keys/URLs, keyword rules on text, and the scores a hit gets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelRule:
    """``match`` (case-insensitive) found in a key/URL (media rules) or in the text (keyword rules) gives
    ``label`` with ``result`` 1 (block) or 2 (review)."""

    match: str
    label: str
    result: int = 1
    sub_label: str = ""


#: Default media rules, matched against the object key or URL: ``nsfw``/``porn`` block as Porn, ``suspect``
#: asks for review (Porn, Result 2), ``spam-ad`` blocks as Ads, ``terror`` as Terrorism, ``politic`` as Politics.
DEFAULT_MEDIA_RULES: tuple[LabelRule, ...] = (
    LabelRule("nsfw", "Porn", 1, "SexBehavior"),
    LabelRule("porn", "Porn", 1, "SexBehavior"),
    LabelRule("suspect", "Porn", 2, "SexyBehavior"),
    LabelRule("spam-ad", "Ads", 1, "QRCode"),
    LabelRule("terror", "Terrorism", 1),
    LabelRule("politic", "Politics", 1),
)
#: Default text keywords: ``porn``/``nsfw`` (Porn), ``buy now``/``spam-ad`` (Ads), ``drugs`` (Illegal),
#: ``idiot`` (Abuse) block; ``suspect`` and ``discount`` ask for review (Porn and Ads, Result 2).
DEFAULT_TEXT_RULES: tuple[LabelRule, ...] = (
    LabelRule("porn", "Porn", 1),
    LabelRule("nsfw", "Porn", 1),
    LabelRule("buy now", "Ads", 1),
    LabelRule("spam-ad", "Ads", 1),
    LabelRule("drugs", "Illegal", 1),
    LabelRule("idiot", "Abuse", 1),
    LabelRule("suspect", "Porn", 2),
    LabelRule("discount", "Ads", 2),
)


@dataclass(frozen=True)
class Hit:
    label: str
    result: int
    score: int
    keyword: str
    sub_label: str
    positions: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class ModerationRules:
    """The verdict rules: media rules on keys/URLs, keyword rules on text; the scores a hit reports."""

    media: tuple[LabelRule, ...] = DEFAULT_MEDIA_RULES
    text: tuple[LabelRule, ...] = DEFAULT_TEXT_RULES
    block_score: int = 95
    review_score: int = 75

    def _hit(self, rule: LabelRule, positions: tuple[tuple[int, int], ...] = ()) -> Hit:
        score = self.block_score if rule.result == 1 else self.review_score
        return Hit(rule.label, rule.result, score, rule.match, rule.sub_label, positions)

    def name_hits(self, name: str) -> list[Hit]:
        lowered = name.lower()
        return [self._hit(rule) for rule in self.media if rule.match.lower() in lowered]

    def text_hits(self, text: str) -> list[Hit]:
        lowered = text.lower()
        hits = []
        for rule in self.text:
            needle = rule.match.lower()
            starts = [i for i in range(len(lowered)) if lowered.startswith(needle, i)] if needle else []
            if starts:
                hits.append(self._hit(rule, tuple((start, start + len(needle)) for start in starts)))
        return hits
