"""Model architectures that nbviz ships so its embedded defaults work offline."""
from nbviz.models.digits_cnn import DigitsCNN
from nbviz.models.efficientnet_lite import EfficientNetLite, efficientnet_lite0

__all__ = ["EfficientNetLite", "efficientnet_lite0", "DigitsCNN"]
