"""The risk service's own commands, beside the runtime's serve, migrate and consume.

    python -m mandi_risk train --tenant <uuid> [--name logistic] [--rows 10000] [--seed 7]
        [--promote] [--by "ops:asha"]

`train` fits the logistic regression on a generated, labelled history, registers it as the
name's next version (its coefficients as JSON, the digests of the artifact and of the data, its
metrics on held-out trades) and, with --promote, makes it decide.
"""

from __future__ import annotations

import argparse
import getpass
from uuid import UUID

from mandi_risk.adapters.training import generate_history, train
from mandi_risk.config import Settings
from mandi_risk.domain.scoring import ModelRef
from mandi_risk.service_layer import models
from mandi_risk.service_layer.dependencies import RiskDependencies
from mandi_runtime import Command, RunningService
from mandi_security import Principal, PrincipalType

__all__ = ["COMMANDS"]

RiskRunning = RunningService[Settings, RiskDependencies]


async def _train(service: RiskRunning, args: argparse.Namespace) -> None:
    deps, tenant_id = service.deps, args.tenant
    version = await models.next_version(deps, tenant_id, args.name)
    trained = train(generate_history(args.rows, args.seed), name=args.name, version=version)
    view = await models.register(deps, tenant_id, trained, by=args.by)
    print(f"registered {view.name} v{view.version}: artifact {view.artifact_digest}")  # noqa: T201
    print(f"training data {view.training_digest}")  # noqa: T201
    print("metrics: " + ", ".join(f"{k} {v:.4f}" for k, v in view.metrics.items()))  # noqa: T201
    if args.promote:
        officer = Principal(tenant_id, args.by, PrincipalType.INTERNAL, scopes=frozenset({"*"}))
        await models.promote(deps, officer, ModelRef(view.name, view.version))
        print(f"{view.name} v{view.version} decides from now on")  # noqa: T201


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", type=UUID, required=True, help="the tenant's id")
    parser.add_argument("--name", default="logistic")
    parser.add_argument("--rows", type=int, default=10_000, help="trades in the history")
    parser.add_argument("--seed", type=int, default=7, help="of the generated history")
    parser.add_argument("--promote", action="store_true", help="make it decide at once")
    parser.add_argument("--by", default=f"operator:{getpass.getuser()}", help="who does it")


COMMANDS: list[Command[Settings, RiskDependencies]] = [
    Command("train", "train, register (and promote) a logistic model", _train, _train_arguments)
]
