"""fashion_lib: the library behind the Fashion-MNIST notebooks.

Importing it is cheap: TensorFlow and quilt3 load only inside the functions that use them.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's C++ log lines (CUDA probing on CPU machines)

__version__ = "0.1.0"
