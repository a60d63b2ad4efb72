"""The parts of training, one concern each; :func:`fashion_lib.train.train` puts them together.

- :mod:`.inputs`: the held-out validation split and the tf.data input pipeline with its
  augmentations (flips, translations).
- :mod:`.strategy`: the ``tf.distribute`` strategy from the environment; which worker is chief.
- :mod:`.optimizer`: the optimizer and its warm-up/cosine learning-rate schedule; seeding.
- :mod:`.callbacks`: the callbacks ``train`` always adds (history files, console progress,
  early stopping with the best weights restored).
- :mod:`.loop`: the plain distributed loop used under ``MultiWorkerMirroredStrategy``.
- :mod:`.validation`: scoring the validation split with :mod:`fashion_lib.evaluate`'s metrics.
"""
