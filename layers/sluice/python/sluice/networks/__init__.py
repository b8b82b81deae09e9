"""Neural networks (MAID's backend): Keras manifests, graphs and their validation.

Nothing here imports TensorFlow or Keras at module level: the api Lambda serves the
manifests and validates graphs from the committed JSON alone. Only
``manifest_build`` (run by ``sluice manifests``) imports Keras, inside its functions.
"""
