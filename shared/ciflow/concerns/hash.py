"""Hash uploads: a FileHashCode job per configured algorithm, or the synchronous filehash API for small objects."""

from collections.abc import Callable

from pydantic import Field, field_validator

from .. import operations as ops
from ..events import ObjectRef
from ..handlers import Delivery, PlannedJob, UploadSettings, with_delivery
from ..models import JobInput
from ..models.files import FileHashCodeConfig, FileHashCodeJobRequest, FileHashCodeOperation
from ._common import require_own_bucket

__all__ = ["ALGORITHMS", "HashSettings", "plan"]

#: Algorithm names as the job API spells them.
ALGORITHMS = ("MD5", "SHA1", "SHA256")
#: The synchronous API reads objects under 128 MB; the job API objects under 50 GB.
SYNC_LIMIT = 128 * 1024 * 1024
JOB_LIMIT = 50 * 1024**3


class HashSettings(UploadSettings):
    """``CIFLOW_HASH_*``: algorithms, whether CI writes the digest into the object's metadata, the sync path."""

    algorithms: list[str] = Field(
        default_factory=lambda: ["MD5"], min_length=1, validation_alias="CIFLOW_HASH_ALGORITHMS"
    )
    add_to_header: bool = Field(default=False, validation_alias="CIFLOW_HASH_ADD_TO_HEADER")
    # Objects up to this many bytes are hashed synchronously (answered inline); 0 = always a job.
    sync_max_size: int = Field(default=0, ge=0, lt=SYNC_LIMIT, validation_alias="CIFLOW_HASH_SYNC_MAX_SIZE")

    @field_validator("algorithms", mode="before")
    @classmethod
    def _algorithms(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list):
            return value
        names = [str(name).upper().replace("-", "") for name in value]
        unknown = [name for name in names if name not in ALGORITHMS]
        if unknown:
            raise ValueError(f"unknown algorithm(s) {', '.join(unknown)}; known: {', '.join(ALGORITHMS)}")
        return list(dict.fromkeys(names))


def plan(ref: ObjectRef, settings: HashSettings, delivery: Callable[[str], Delivery]) -> list[PlannedJob]:
    """One step per algorithm for every object but folder markers; objects of 50 GB or more are refused."""
    if not ref.key or ref.key.endswith("/"):
        return []
    require_own_bucket(ref, settings)
    if ref.size is not None and ref.size >= JOB_LIMIT:
        raise ValueError(f"object of {ref.size} bytes is over the 50 GB that CI's hash job reads")
    sync = bool(settings.sync_max_size) and ref.size is not None and ref.size <= settings.sync_max_size
    jobs: list[PlannedJob] = []
    for algorithm in settings.algorithms:
        step = algorithm.lower()
        if sync:
            operation = ops.file_hash(ref.key, step, add_to_header=settings.add_to_header)
            jobs.append(PlannedJob(f"{step}-sync", operation))
            continue
        request = FileHashCodeJobRequest(
            input=JobInput(object=ref.key),
            operation=FileHashCodeOperation(
                file_hash_code_config=FileHashCodeConfig(type=algorithm, add_to_header=settings.add_to_header or None)
            ),
        )
        jobs.append(PlannedJob(step, ops.submit_file_job(with_delivery(request, delivery(step)))))
    return jobs
