import pytest
import torch
import torch.nn.functional as F

from sklearn_braintumor.nn import (
    IBN,
    BaroneBaselineCNN,
    BaroneImprovedCNN,
    FocalLoss,
    GaussianNoise,
    GBMNet,
    LiCNN,
    LiuCNN,
    MixStyle,
    SimpleCNN,
)

MODELS = [GBMNet, LiuCNN, BaroneBaselineCNN, BaroneImprovedCNN, SimpleCNN, LiCNN]


def test_paper_shapes_and_parameter_counts():
    assert sum(p.numel() for p in BaroneBaselineCNN().parameters()) == 46_596
    assert GBMNet().feature_shape == (64, 16, 16)  # paper D: 256 -> 16x16x64
    assert LiuCNN().feature_shape == (128, 4, 4) and LiuCNN().n_features == 2048  # paper A
    assert LiCNN().feature_shape == (128, 7, 7)  # paper E at 150x150x3
    assert BaroneImprovedCNN().feature_shape == (128, 3, 3)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_forward_other_sizes_and_gradcam_layer(model):
    net = model(n_classes=3, in_channels=1, input_size=(160, 144))
    out = net(torch.zeros(2, 1, 160, 144))
    assert out.shape == (2, 3)
    assert isinstance(dict(net.named_modules())[net.gradcam_layer], torch.nn.Conv2d)
    with pytest.raises(ValueError, match=rf"{model.__name__} cannot take 4x4 inputs"):
        model(input_size=(4, 4))


def test_gbmnet_mirror_channel_sees_left_right_differences():
    torch.manual_seed(0)
    net = GBMNet(n_classes=2, input_size=(32, 32), mirror=True).eval()
    assert net.features.block1.conv.in_channels == 2
    stacked = []
    net.features.block1.conv.register_forward_hook(lambda m, inputs, out: stacked.append(inputs[0]))
    symmetric = torch.rand(1, 1, 32, 16)
    symmetric = torch.cat([symmetric, symmetric.flip(3)], dim=3)
    lesion = symmetric.clone()
    lesion[..., 8:14, 2:8] = 1.0  # one side only
    net(torch.cat([symmetric, lesion]))
    image, difference = stacked[0][:, 0], stacked[0][:, 1]
    assert torch.equal(image, torch.cat([symmetric, lesion])[:, 0])
    assert difference[0].abs().max() == 0  # a symmetric slice: nothing
    assert difference[1, 8:14, 2:8].gt(0).any() and difference[1, 8:14, 24:30].lt(0).any()
    # the same input without the channel: a plain GBMNet
    assert GBMNet(n_classes=2, input_size=(32, 32)).features.block1.conv.in_channels == 1


def test_mixstyle_swaps_feature_statistics_and_keeps_content():
    torch.manual_seed(0)
    x = torch.randn(6, 4, 8, 8) * torch.arange(1, 7).view(6, 1, 1, 1) + torch.arange(6).view(
        6, 1, 1, 1
    )
    mixed = MixStyle(p=1.0, alpha=0.1).train()(x)
    # each image keeps its normalised content, with statistics drawn between two images'
    standardise = lambda t: (t - t.mean((2, 3), keepdim=True)) / t.std((2, 3), keepdim=True)  # noqa: E731
    torch.testing.assert_close(standardise(mixed), standardise(x), atol=1e-3, rtol=1e-3)
    means = x.mean((2, 3))
    new = mixed.mean((2, 3))
    assert (new - means).abs().max() > 0.5  # styles moved
    assert (new >= means.min(0).values - 1e-4).all() and (new <= means.max(0).values + 1e-4).all()
    assert torch.equal(MixStyle(p=1.0).eval()(x), x)  # evaluation: the identity
    assert torch.equal(MixStyle(p=0.0).train()(x), x)
    assert torch.equal(MixStyle(p=1.0).train()(x[:1]), x[:1])  # one image: nothing to mix


def test_gbmnet_mixstyle_after_the_first_two_blocks_only():
    net = GBMNet(n_classes=2, input_size=(32, 32), mixstyle=0.5)
    layers = [name for name, m in net.named_modules() if isinstance(m, MixStyle)]
    assert layers == ["features.block1.mixstyle", "features.block2.mixstyle"]
    plain = GBMNet(n_classes=2, input_size=(32, 32))
    assert net.state_dict().keys() == plain.state_dict().keys()  # the same weights
    plain.load_state_dict(net.state_dict())
    x = torch.rand(3, 1, 32, 32)
    torch.testing.assert_close(net.eval()(x), plain.eval()(x))


def test_ibn_normalises_half_the_channels_per_image_and_half_over_the_batch():
    torch.manual_seed(0)
    layer = IBN(6).train()
    x = torch.randn(4, 6, 8, 8)
    restyled = x.clone()
    restyled[0] = restyled[0] * 5 + 3  # one image of the batch gets another contrast and level
    out, out_restyled = layer(x), layer(restyled)
    # the instance half does not see an image's own contrast and level ...
    torch.testing.assert_close(out_restyled[:, :3], out[:, :3], atol=1e-4, rtol=1e-4)
    # ... the batch half does, for every image (the batch statistics moved)
    assert (out_restyled[:, 3:] - out[:, 3:]).abs().amax(dim=(1, 2, 3)).min() > 1e-2
    assert layer.instance.num_features == 3 and layer.batch.num_features == 3
    assert IBN(5).instance.num_features == 2  # an odd width: the larger half batch-normalised


def test_gbmnet_instance_norm_in_the_first_blocks_only():
    net = GBMNet(n_classes=2, input_size=(32, 32), instance_norm=2)
    norms = {name: type(m).__name__ for name, m in net.named_modules() if name.endswith(".bn")}
    assert norms == {
        "features.block1.bn": "IBN",
        "features.block2.bn": "IBN",
        "features.block3.bn": "BatchNorm2d",
        "features.block4.bn": "BatchNorm2d",
    }
    plain = GBMNet(n_classes=2, input_size=(32, 32))
    assert all(isinstance(m, torch.nn.BatchNorm2d) for n, m in plain.named_modules()
               if n.endswith(".bn"))  # fmt: skip
    assert net.eval()(torch.rand(3, 1, 32, 32)).shape == (3, 2)
    for wrong in (-1, 5, 1.5):
        with pytest.raises(ValueError, match="instance_norm must be a whole number of blocks"):
            GBMNet(n_classes=2, input_size=(32, 32), instance_norm=wrong)


@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_gbmnet_global_pooling_reads_local_patterns_anywhere(pooling):
    net = GBMNet(n_classes=2, input_size=(32, 32), pooling=pooling).eval()
    assert net.n_features == 64  # one value per channel of the last block
    x = torch.rand(2, 1, 32, 32)
    maps = net.features[:-1](x)  # the last block's maps, before the global pooling
    reduce = torch.amax if pooling == "max" else torch.mean
    torch.testing.assert_close(net.features(x).flatten(1), reduce(maps, dim=(2, 3)))
    flat = GBMNet(n_classes=2, input_size=(32, 32)).eval()
    assert flat.n_features == 64 * 2 * 2
    assert net(torch.rand(3, 1, 48, 40)).shape == (3, 2)  # any size reaching the last block


def test_gbmnet_rejects_an_unknown_pooling():
    with pytest.raises(ValueError, match="pooling must be"):
        GBMNet(pooling="sum")


def test_gaussian_noise_only_while_training():
    layer = GaussianNoise(0.5)
    x = torch.zeros(1000)
    assert 0.4 < layer.train()(x).std() < 0.6
    assert torch.equal(layer.eval()(x), x)


def test_focal_loss():
    torch.manual_seed(0)
    logits, target = torch.randn(64, 4), torch.randint(0, 4, (64,))
    ce = F.cross_entropy(logits, target)
    assert torch.isclose(FocalLoss(gamma=0, alpha=1.0)(logits, target), ce)
    assert FocalLoss(gamma=2, alpha=1.0)(logits, target) < ce  # easy examples down-weighted
    per_class = FocalLoss(gamma=0, alpha=[1.0, 1.0, 1.0, 1.0])(logits, target)
    assert torch.isclose(per_class, ce)
    weight = torch.tensor([2.0, 1.0, 1.0, 1.0])
    manual = -(
        weight[target] * F.log_softmax(logits, 1).gather(1, target[:, None]).squeeze()
    ).mean()
    assert torch.isclose(FocalLoss(gamma=0, alpha=1.0, weight=weight)(logits, target), manual)


def test_batch_augment_flips_identity_and_determinism():
    from sklearn_braintumor.nn import BatchAugment

    x = torch.rand(4, 1, 16, 20)
    assert torch.allclose(BatchAugment(horizontal_flip=1.0)(x), x.flip(-1), atol=1e-6)
    both = BatchAugment(horizontal_flip=1.0, vertical_flip=1.0)(x)
    assert torch.allclose(both, x.flip(-1).flip(-2), atol=1e-6)
    assert torch.equal(BatchAugment(horizontal_flip=0.0)(x), x)
    strong = BatchAugment(rotation=30, shear=10, translation=0.1, zoom=0.2, crop_scale=(0.8, 1.0),
                          blur_sigma=1.0, noise_std=0.05)  # fmt: skip
    assert torch.equal(strong.eval()(x), x)  # evaluation mode: no augmentation
    strong.train()
    torch.manual_seed(0)
    first = strong(x)
    torch.manual_seed(0)
    assert torch.equal(first, strong(x))
    assert first.shape == x.shape and not torch.allclose(first, x)
    flat = torch.full((2, 1, 32, 32), 0.5)
    blurred = BatchAugment(horizontal_flip=0.0, blur_sigma=2.0)(flat)
    assert torch.allclose(blurred, flat, atol=1e-5)  # blur keeps a flat image, reflect borders
    rotated = BatchAugment(horizontal_flip=0.0, rotation=45)(flat)
    assert rotated[:, :, 16, 16].allclose(torch.tensor(0.5)) and rotated[:, :, 0, 0].max() < 0.5


@pytest.mark.parametrize(
    "options",
    [
        {"zoom": 1.0},
        {"horizontal_flip": 1.5},
        {"crop_scale": (0.0, 1.0)},
        {"rotation": -5},
        {"noise_std": -0.1},
    ],
)
def test_batch_augment_rejects_bad_options(options):
    from sklearn_braintumor.nn import BatchAugment

    with pytest.raises(ValueError, match=next(iter(options))):
        BatchAugment(**options)


def test_liu_cnn_keeps_its_signal_above_the_noise_layer():
    # under PyTorch's default initialisation the eight plain convolutions shrink the features
    # that reach the Gaussian-noise layer far below its 0.1: the network then learns nothing
    images = torch.rand(8, 1, 256, 256)

    def feature_std(init):
        torch.manual_seed(0)
        net = LiuCNN(init=init, noise_std=0.0).eval()
        with torch.no_grad():
            return float(net.features(images).std())

    assert feature_std("default") < 0.05 < 0.3 < feature_std("he")
    with pytest.raises(ValueError, match="init must be"):
        LiuCNN(init="glorot")
