# The preparer (the ingest's Prepare past a Lambda's 15 minutes): the Fargate task that
# ecs:runTask.sync starts in statemachines/ingest_dataset.asl.json for a compressed
# upload too large for one invocation. The library and its base dependencies, no
# TensorFlow; the run's Prepare input comes in the container's environment overrides
# (SLUICE_PREPARE_INPUT). The build context is the project root, narrowed to the library
# and what pip needs (infra/constructs/container_tasks.py: TASK_CONTEXT); `cdk synth`
# only stages it.
FROM public.ecr.aws/docker/library/python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

COPY pyproject.toml README.md /tmp/sluice/
COPY layers/sluice/python /tmp/sluice/layers/sluice/python
RUN pip install --no-cache-dir "/tmp/sluice" && rm -rf /tmp/sluice \
    && useradd --create-home --uid 10001 preparer

USER preparer
WORKDIR /home/preparer
CMD ["python", "-m", "sluice.ingest.prepare_task"]
