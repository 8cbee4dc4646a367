"""
Where does the network look? Grad-CAM on real slices
====================================================

Train a small GBMNet on cropped, resized slices and draw Grad-CAM heatmaps
over the original images: the maps are computed on the network's last
convolution and mapped back through the resize and the crop.
"""

from imblearn.pipeline import make_pipeline

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import load_sample
from sklearn_braintumor.inspection import plot_grad_cam
from sklearn_braintumor.nn import GBMNet
from sklearn_braintumor.preprocessing import BrainCrop, Resize

train, test = load_sample("train"), load_sample("test")

# %%
# Three blocks keep an 8x8 activation map at 64 px, fine enough to localise.
pipe = make_pipeline(
    BrainCrop(),
    Resize((64, 64)),
    CNNClassifier(GBMNet, max_epochs=12, lr=2e-3, random_state=0, module__channels=(8, 16, 32)),
)
pipe.fit(train.images, train.target)
print(f"test accuracy {pipe.score(test.images, test.target):.3f}")

# %%
# Two test slices per class; titles give the prediction and its probability.
picks = [i for label in range(4) for i in (test.target == label).nonzero()[0][:2]]
names = [test.target_names[test.target[i]] for i in picks]
print("true classes:", names)
plot_grad_cam(pipe, test.images[picks], ncols=4)
