"""Every change the local system makes to moto (and werkzeug, which serves it), a
module per change (the Distributed Map's, the largest, a module per idea: ``sfn_map_*``),
each saying why it exists.

moto 5.2.5 and werkzeug are pinned exactly (``pyproject.toml``): these touch their
internals. Each module's ``install()`` replaces attributes through
:func:`~sluice.local.patches.replace.replace_once`, so installing twice changes nothing;
:func:`install_all` installs them all. Nothing here ships in the Lambda layer.
"""

from __future__ import annotations

from sluice.local.patches import ec2_offerings, service_regions

# Before moto's EC2 is imported (by ecs_tasks, below): it loads its offerings, and lists
# its regions, then.
ec2_offerings.install()
service_regions.install()

from sluice.local.patches import (  # noqa: E402 - after the install above
    dynamodb_atomic,
    dynamodb_wire,
    ecs_tasks,
    keep_alive,
    lambda_invoke,
    request_body,
    s3_plain_gets,
    s3_post_file,
    s3_post_policy,
    s3_reads,
    s3_writes,
    service_modules,
    sfn_distributed_map,
    sfn_ecs_sync,
    sfn_lambda_client,
    sfn_paths,
)


def install_all() -> None:
    """Install every patch of the local system, once per process (safe to call again)."""
    s3_reads.install()  # a ranged GET reads only its range; large GETs stream
    s3_plain_gets.install()  # a plain object GET is answered before Flask's dispatch
    s3_writes.install()  # large objects and completed uploads go to disk without copies
    s3_post_policy.install()  # a presigned POST's policy and signature are checked
    s3_post_file.install()  # a POST's file is stored as the form parser wrote it
    service_modules.install()  # the server lists moto's services once
    dynamodb_atomic.install()  # a conditional write is checked and applied at once
    dynamodb_wire.install()  # items are written out as they are
    request_body.install()  # an upload's body is read into one buffer
    keep_alive.install()  # connections stay open between requests
    sfn_paths.install()  # each JSONPath is parsed once
    lambda_invoke.install()  # functions run the catalogue's handlers, not containers
    sfn_lambda_client.install()  # Step Functions' Lambda tasks share one client
    ecs_tasks.install()  # ECS tasks run their container's command as a local process
    sfn_ecs_sync.install()  # ecs:runTask.sync converts its parameters, fails on an exit code
    sfn_distributed_map.install()  # batches, results in S3, a failed child fails the Map
    ec2_offerings.install()  # EC2 holds our region's instance-type offerings only
    service_regions.install()  # regions are listed without keeping services' models


__all__ = ["install_all"]
