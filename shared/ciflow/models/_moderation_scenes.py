"""Moderation media kinds and the one scene table; the media-agnostic verdict built from a job's scene hits."""

from collections.abc import Iterable, Sequence
from enum import Enum, IntEnum
from typing import NamedTuple, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ModerationKind",
    "ModerationCallbackVersion",
    "CONTENT_VERSION_HEADER",
    "TEST_CALLBACK_MESSAGE",
    "EVENT_KINDS",
    "Verdict",
    "ModerationScene",
    "MODERATION_SCENES",
    "moderation_scene",
    "default_scenes",
    "ModerationVerdict",
    "SCENE_FIELDS",
    "SceneHit",
    "scenes_of",
    "build_verdict",
]


class ModerationKind(str, Enum):
    """The media type of a moderation API: the first path segment of ``/<kind>/auditing``."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    TEXT = "text"
    DOCUMENT = "document"

    @property
    def submit_path(self) -> str:
        """``POST`` path of the submit call (CI host), e.g. ``/video/auditing``."""
        return f"/{self.value}/auditing"

    def job_path(self, job_id: str) -> str:
        """``GET`` path of the query call (CI host), e.g. ``/video/auditing/<jobId>``."""
        return f"/{self.value}/auditing/{job_id}"


class ModerationCallbackVersion(str, Enum):
    """``Conf.CallbackVersion`` and the ``X-Ci-Content-Version`` header: which callback shape is sent."""

    SIMPLE = "Simple"
    DETAIL = "Detail"


#: Header on moderation callbacks naming the body shape (``Simple`` or ``Detail``).
CONTENT_VERSION_HEADER = "X-Ci-Content-Version"
#: ``message`` of the probe CI sends when a callback URL is configured in the console.
TEST_CALLBACK_MESSAGE = "Test request when setting callback url"

#: Callback ``EventName`` / ``data.event`` -> media type.
EVENT_KINDS: dict[str, ModerationKind] = {
    "ReviewImage": ModerationKind.IMAGE,
    "ReviewVideo": ModerationKind.VIDEO,
    "ReviewAudio": ModerationKind.AUDIO,
    "ReviewText": ModerationKind.TEXT,
    "ReviewDocument": ModerationKind.DOCUMENT,
}


class Verdict(IntEnum):
    """Moderation ``Result`` (``Suggestion`` for documents): what to do with the content."""

    NORMAL = 0
    BLOCK = 1
    REVIEW = 2


class ModerationScene(NamedTuple):
    """One moderation scene (``Porn``, ``Ads``…): how it is named in each place CI and ciflow use it.

    ``name`` is the ``Label``/``DetectType`` spelling and the name in ``ModerationVerdict.hits``;
    ``field`` the snake_case field of its result (``porn_info``: ``<PornInfo>`` on jobs, frames, segments,
    pages and document ``Labels``; ``porn_info`` in a Simple callback's ``data``); ``legacy_fields`` older
    spellings read as the same scene (``TerroristInfo``).
    """

    name: str
    field: str
    #: ``Conf.Freeze`` field of its block threshold (None: CI documents no freeze for it).
    freeze_field: str | None = None
    #: Can be asked for in ``Conf.DetectType`` and is reported in Simple callbacks' ``data``.
    requestable: bool = True
    #: Media types that report it under the default policy (no ``DetectType``/``BizType`` narrowing);
    #: text moderation's set is the one seed doc 003 documents (Porn, Ads, Illegal, Abuse).
    default_for: frozenset[ModerationKind] = frozenset()
    #: Spelling in the synchronous image API's ``detect-type`` (``terrorist``); default ``name.lower()``.
    sync_name: str | None = None
    legacy_fields: tuple[str, ...] = ()

    @property
    def element(self) -> str:
        """The XML/JSON element of its result, e.g. ``PornInfo``."""
        return f"{self.name}Info"

    @property
    def detect_type(self) -> str:
        """The synchronous image API's ``detect-type`` spelling, e.g. ``porn``, ``terrorist``."""
        return self.sync_name or self.name.lower()


_MEDIA = frozenset({ModerationKind.IMAGE, ModerationKind.VIDEO, ModerationKind.AUDIO})
_TEXT = frozenset({ModerationKind.TEXT})

#: Every moderation scene ciflow knows, in the order a verdict reports its hits. The one table: models,
#: results, the concerns' settings and the local emulator all read scenes from here.
MODERATION_SCENES: tuple[ModerationScene, ...] = (
    ModerationScene("Porn", "porn_info", "porn_score", default_for=frozenset(ModerationKind)),
    ModerationScene(
        "Terrorism",
        "terrorism_info",
        "terrorism_score",
        default_for=_MEDIA,
        sync_name="terrorist",
        legacy_fields=("terrorist_info",),
    ),
    ModerationScene("Politics", "politics_info", "politics_score", default_for=_MEDIA),
    ModerationScene("Ads", "ads_info", "ads_score", default_for=frozenset(ModerationKind)),
    ModerationScene("Teenager", "teenager_info", "teenager_score", default_for=_MEDIA),
    ModerationScene("Illegal", "illegal_info", "illegal_score", default_for=_TEXT),
    ModerationScene("Abuse", "abuse_info", "abuse_score", default_for=_TEXT),
    # Result-only scenes: reported on detailed results, never asked for nor sent in Simple callbacks.
    ModerationScene("Value", "value_info", requestable=False),
    ModerationScene("Spam", "spam_info", requestable=False),
)

_SCENES_BY_NAME: dict[str, ModerationScene] = {scene.name.lower(): scene for scene in MODERATION_SCENES}


def moderation_scene(name: str) -> ModerationScene | None:
    """The scene of a name, case-insensitively (``porn``, ``Porn``); None for an unknown name."""
    return _SCENES_BY_NAME.get(name.strip().lower())


def default_scenes(kind: ModerationKind) -> tuple[str, ...]:
    """Names of the scenes a media type reports under the default policy, in verdict order."""
    return tuple(scene.name for scene in MODERATION_SCENES if kind in scene.default_for)


class ModerationVerdict(BaseModel):
    """A normalised moderation outcome, the same for every media type and callback shape.

    ``result`` is None while a job has no result (submitted, running, failed); ``hits`` are the scene
    names (``Porn``, ``Ads``, …) flagged as confirmed or suspected, in a fixed scene order.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    result: Verdict | None = None
    label: str | None = None
    score: int | None = None
    sub_label: str | None = None
    hits: list[str] = Field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return self.result is Verdict.BLOCK

    @property
    def needs_review(self) -> bool:
        return self.result is Verdict.REVIEW

    @property
    def normal(self) -> bool:
        return self.result is Verdict.NORMAL


#: (scene name, field) in the order hits are reported, legacy fields after their scene's own.
SCENE_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (scene.name, field) for scene in MODERATION_SCENES for field in (scene.field, *scene.legacy_fields)
)

#: One scene's contribution to a verdict: (name, hit flag, score, sub label).
SceneHit: TypeAlias = tuple[str, int | None, int | None, str | None]


def scenes_of(model: BaseModel) -> list[SceneHit]:
    """The contribution of each scene result a model holds (job, frame, segment, page), in verdict order."""
    out: list[SceneHit] = []
    # Read the instance dict: getattr on a field a model does not define goes through pydantic's slow miss path.
    values = model.__dict__
    for name, field in SCENE_FIELDS:
        info = values.get(field)
        if info is not None:
            out.append((name, info.hit_flag, info.score, getattr(info, "sub_label", None) or None))
    return out


def build_verdict(
    result: int | None,
    label: str | None,
    score: int | None,
    sub_label: str | None,
    overall: Sequence[SceneHit],
    segments: Iterable[Sequence[SceneHit]] = (),
) -> ModerationVerdict:
    """Combine a job's own fields with its scene results (job level first, then frames/segments/pages)."""
    scenes = list(overall)
    for segment in segments:
        scenes.extend(segment)
    order = {name: index for index, (name, _) in enumerate(SCENE_FIELDS)}
    hits = sorted({name for name, flag, _, _ in scenes if flag in (1, 2)}, key=order.__getitem__)
    if result is None and scenes:
        flags = {flag for _, flag, _, _ in scenes}
        result = 1 if 1 in flags else 2 if 2 in flags else 0
    verdict: Verdict | None = None
    if result is not None:
        # An undocumented result value is treated as "needs a human", never as normal.
        verdict = Verdict(result) if result in (0, 1, 2) else Verdict.REVIEW
    label = label or (hits[0] if hits else ("Normal" if verdict is Verdict.NORMAL else None))
    # Score and sub label describe the label's scene, else the hit scenes; a clean job's score is its
    # riskiest scene's.
    focus = [s for s in scenes if s[0] == label] or [s for s in scenes if s[0] in hits]
    if score is None:
        scores = [s for _, _, s, _ in focus or scenes if s is not None]
        score = max(scores) if scores else None
    if not sub_label:
        sub_label = next((sub for _, _, _, sub in focus if sub), None)
    return ModerationVerdict(result=verdict, label=label, score=score, sub_label=sub_label, hits=hits)
