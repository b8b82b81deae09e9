"""Training jobs (issue 20): a graph trained on a dataset by a Fargate task."""
