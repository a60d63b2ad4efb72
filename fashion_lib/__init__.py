"""fashion_lib: the library behind the Fashion-MNIST notebooks.

Importing it is cheap: TensorFlow and quilt3 load only inside the functions that use them.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ info lines drown our progress output

__version__ = "0.1.0"
