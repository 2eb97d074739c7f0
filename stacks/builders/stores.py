"""Model stores: where every model's weights (and LoRA adapters) live — an NFS share, a
PersistentVolumeClaim or an S3-compatible bucket — each checkpoint downloaded or uploaded once."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.conventions import DEFAULT_UID
from components.workloads import (
    ModelDownload,
    ModelSource,
    NfsModelStore,
    NfsModelStoreArgs,
    ServingNamespace,
)
from components.workloads.claim_model_store import ClaimModelStore, ClaimModelStoreArgs, DownloadJob
from components.workloads.s3_model_store import S3ModelStore, S3ModelStoreArgs
from stacks import catalog
from stacks.builders.namespace import model_resource_name
from stacks.config.common import StackBase
from stacks.config.model_store import NfsModelStoreConfig, S3ModelStoreConfig
from stacks.config.models import ModelEntry
from stacks.placement import resource_suffix


@dataclass
class ModelStores:
    """Where every model's weights (and LoRA adapters) are, by store directory: one download/upload per
    distinct checkpoint, all in the stack's one share, claim or bucket."""

    sources: dict[str, ModelSource]
    """Directory -> what a server mounts and passes to read it."""
    paths: dict[str, str] = field(default_factory=dict)
    """Directory -> its path inside the servers (adapters on a mounted store)."""

    def source(self, m: ModelEntry) -> ModelSource:
        return self.sources[m.directory]

    def lora_paths(self, m: ModelEntry) -> list[str]:
        return [self.paths[a.directory] for a in (m.lora.adapters if m.lora else [])]


def model_download(namespace: ServingNamespace, model_id: str, revision: str, directory: str,
                   job_node_selector: dict[str, str]) -> ModelDownload:  # fmt: skip
    """What every model store's Hugging Face download takes: the repo, the pinned downloader, the token."""
    return ModelDownload(
        model_id=model_id,
        model_revision=revision,
        model_directory=directory,
        downloader_image=catalog.DOWNLOADER_IMAGE,
        huggingface_hub_version=catalog.HUGGINGFACE_HUB_VERSION,
        hf_token_secret_name=namespace.hf_token_secret_name,
        job_node_selector=job_node_selector,
    )


def _checkpoints(cfg: StackBase) -> list[tuple[str, str, str, str]]:
    """(resource name, repo id, revision, directory) of every checkpoint the models need, once each: the
    first model's under the one-model stack's name, the other models', then their LoRA adapters'."""
    found: dict[str, tuple[str, str, str, str]] = {}
    for i, m in enumerate(cfg.models):
        found.setdefault(m.directory, (model_resource_name(cfg, i, "model-store"), m.id, m.revision, m.directory))
    for m in cfg.models:
        for a in m.lora.adapters if m.lora else []:
            name = f"{cfg.name}-lora-{resource_suffix(m.name)}-{resource_suffix(a.name)}"
            found.setdefault(a.directory, (name, a.id, a.revision, a.directory))
    return list(found.values())


def claim_model_stores(
    cfg: StackBase,
    namespace: ServingNamespace,
    claim_name: pulumi.Input[str],
    job_node_selector: dict[str, str],
    opts: pulumi.ResourceOptions,
    *,
    first: tuple[ModelSource, str] | None = None,
    download: bool = True,
    download_timeout_minutes: int = 60,
    run_as_user: int | None = DEFAULT_UID,
    prepare_as_root: bool = False,
) -> ModelStores:
    """Every checkpoint on one claim, one download Job each (`first`: the first model's, already made)."""
    stores = ModelStores(sources={}, paths={})
    for index, (name, model_id, revision, directory) in enumerate(_checkpoints(cfg)):
        if index == 0 and first is not None:
            stores.sources[directory], stores.paths[directory] = first
            continue
        claim = ClaimModelStore(
            name,
            ClaimModelStoreArgs(
                namespace=namespace.name,
                claim_name=claim_name,
                job=DownloadJob(
                    enabled=download,
                    timeout_minutes=download_timeout_minutes,
                    run_as_user=run_as_user,
                    prepare_as_root=prepare_as_root,
                ),
                model=model_download(namespace, model_id, revision, directory, job_node_selector),
            ),
            opts=opts,
        )
        stores.sources[directory], stores.paths[directory] = claim.source, claim.model_path
    return stores


def nfs_model_store(
    cfg: StackBase,
    store: NfsModelStoreConfig,
    namespace: ServingNamespace,
    server: pulumi.Input[str],
    path: pulumi.Input[str],
    job_node_selector: dict[str, str],
    opts: pulumi.ResourceOptions,
    mount_options: list[str] | None = None,
    run_as_user: int | None = DEFAULT_UID,
    prepare_as_root: bool = False,
) -> tuple[NfsModelStore, ModelStores]:
    """The weights on an NFS share (created by the stack or already there), each checkpoint downloaded once."""
    first = cfg.models[0]
    share = NfsModelStore(
        f"{cfg.name}-model-store",
        NfsModelStoreArgs(
            namespace=namespace.name,
            server=server,
            path=path,
            capacity_gb=store.size_gb,
            model=model_download(namespace, first.id, first.revision, first.directory, job_node_selector),
            mount_options=list(mount_options or []),
            job=DownloadJob(
                timeout_minutes=store.download_timeout_minutes, run_as_user=run_as_user, prepare_as_root=prepare_as_root
            ),
        ),
        opts=opts,
    )
    stores = claim_model_stores(
        cfg, namespace, share.claim_name, job_node_selector, opts, first=(share.source, share.model_path),
        download_timeout_minutes=store.download_timeout_minutes, run_as_user=run_as_user,
        prepare_as_root=prepare_as_root,
    )  # fmt: skip
    return share, stores


def s3_model_store(
    cfg: StackBase,
    store: S3ModelStoreConfig,
    namespace: ServingNamespace,
    *,
    endpoint: pulumi.Input[str],
    bucket: pulumi.Input[str],
    region: str,
    access_key_id: pulumi.Input[str],
    secret_access_key: pulumi.Input[str],
    job_node_selector: dict[str, str],
    opts: pulumi.ResourceOptions,
    run_as_user: int | None = DEFAULT_UID,
) -> tuple[S3ModelStore, ModelStores]:
    """The weights in an S3-compatible bucket, each checkpoint uploaded once (under its own prefix), streamed
    by vLLM. Returns the first model's store (its outputs) and every model's source."""
    stores = ModelStores(sources={})
    made: list[S3ModelStore] = []
    for index, (name, model_id, revision, directory) in enumerate(_checkpoints(cfg)):
        s3 = S3ModelStore(
            name,
            S3ModelStoreArgs(
                namespace=namespace.name,
                endpoint_url=endpoint,
                region=region,
                bucket=bucket,
                access_key_id=access_key_id,
                secret_access_key=secret_access_key,
                model=model_download(namespace, model_id, revision, directory, job_node_selector),
                uploader_image=catalog.S3_UPLOADER_IMAGE,
                scratch_size_gi=store.scratch_size_gb,
                create_bucket=store.create_bucket,
                upload_timeout_minutes=store.upload_timeout_minutes,
                streamer_concurrency=store.streamer_concurrency,
                run_as_user=run_as_user,
                # One credentials Secret per store (each store is self-contained); the first keeps its name.
                **({} if index == 0 else {"secret_name": f"model-store-s3-{resource_suffix(name)}"[:63]}),
            ),
            opts=opts,
        )
        made.append(s3)
        stores.sources[directory] = s3.source
    return made[0], stores
