# The predict function (issue 20): TensorFlow, some 600 MB, is past what a zip Lambda may
# hold, so it is a container image. The build context is the project root, narrowed by
# infra's IMAGE_CONTEXT to the library and the image functions' folders; `cdk synth` only
# stages it. x86_64: tensorflow-cpu publishes its wheels for it.
FROM public.ecr.aws/lambda/python:3.11

COPY pyproject.toml README.md /tmp/sluice/
COPY layers/sluice/python /tmp/sluice/layers/sluice/python
RUN pip install --no-cache-dir "/tmp/sluice[networks]" && rm -rf /tmp/sluice

COPY functions/training/predict.py ${LAMBDA_TASK_ROOT}/
CMD ["predict.handler"]
