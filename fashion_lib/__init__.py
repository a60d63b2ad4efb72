"""fashion_lib: the library behind the Fashion-MNIST notebooks.

Importing it is cheap: TensorFlow and quilt3 load only inside the functions that use them.
"""

__version__ = "0.1.0"
