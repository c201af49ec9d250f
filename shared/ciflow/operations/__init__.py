"""Every API call the handlers make, as pure functions returning ``Operation`` values for a client to send.

Names load on first use: importing the package loads neither the job operations (``_ci``) nor the object
operations (``_cos``), so a function that only writes COS markers never loads the CI job builders.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._ci import (
        DOC_JOBS,
        FILE_JOBS,
        JOB_FAMILIES,
        MEDIA_JOBS,
        PIC_JOBS,
        cancel_job,
        describe_doc_jobs,
        describe_file_jobs,
        describe_media_jobs,
        describe_pic_jobs,
        file_hash,
        list_doc_jobs,
        list_media_jobs,
        list_pic_jobs,
        moderate_image_object,
        query_moderation,
        submit_doc_job,
        submit_file_job,
        submit_media_job,
        submit_moderation,
        submit_pic_job,
    )
    from ._cos import (
        MAX_DELETE_KEYS,
        copy_object,
        delete_object,
        delete_objects,
        get_object,
        head_object,
        list_objects,
        put_object,
        put_object_acl,
    )

#: The object API builders (``_cos``); every other name is a CI job builder (``_ci``).
_COS = (
    "MAX_DELETE_KEYS",
    "copy_object",
    "delete_object",
    "delete_objects",
    "get_object",
    "head_object",
    "list_objects",
    "put_object",
    "put_object_acl",
)

__all__ = [
    "DOC_JOBS",
    "FILE_JOBS",
    "JOB_FAMILIES",
    "MAX_DELETE_KEYS",
    "MEDIA_JOBS",
    "PIC_JOBS",
    "cancel_job",
    "copy_object",
    "delete_object",
    "delete_objects",
    "describe_doc_jobs",
    "describe_file_jobs",
    "describe_media_jobs",
    "describe_pic_jobs",
    "file_hash",
    "get_object",
    "head_object",
    "list_doc_jobs",
    "list_media_jobs",
    "list_objects",
    "list_pic_jobs",
    "moderate_image_object",
    "put_object",
    "put_object_acl",
    "query_moderation",
    "submit_doc_job",
    "submit_file_job",
    "submit_media_job",
    "submit_moderation",
    "submit_pic_job",
]

__getattr__, __dir__ = lazy_exports(__name__, {name: "._cos" if name in _COS else "._ci" for name in __all__})
