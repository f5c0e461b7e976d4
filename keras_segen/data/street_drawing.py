"""The embedded street scenes: procedurally drawn roads, buildings, trees, cars and people.

A benchmark with room between few and many labels (issue: shapes is solved from 100
labelled images). Each scene is drawn in perspective from a random horizon and vanishing
point: sky above, building facades along both sides with windows, a road converging to
the vanishing point with lane markings, sidewalks beside it, trees and poles on the
sidewalks, cars on the road and people on the sidewalks, each sized by its depth and
drawn far to near, so nearer objects hide farther ones (in the mask too). Every class's
colour and texture are drawn per scene (in one scene of four any colour, so colour is a
weak cue), then the weather (clear, fog thickening with distance, dusk, night), lighting
(brightness, colour cast, a cast shadow), sensor noise and blur are applied. Everything is
NumPy from ``(seed, index)``: the same seed always gives the same scenes.
"""

import numpy as np

STREET_CLASSES = (
    "road", "sidewalk", "building", "sky", "vegetation", "vehicle", "person", "pole",
)  # fmt: skip
ROAD, SIDEWALK, BUILDING, SKY, VEGETATION, VEHICLE, PERSON, POLE = range(len(STREET_CLASSES))
# The classes' colours in overlays and palette PNGs: Cityscapes' for the same classes.
STREET_COLOURS = (
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (70, 130, 180), (107, 142, 35),
    (0, 0, 142), (220, 20, 60), (153, 153, 153),
)  # fmt: skip
# perturb_label_maps options that keep a street's layout: no up-down flips or shifts (they
# would put the sky below or a strip of road beside the scene); only objects are pasted.
STREET_PERTURBATION = {"flip": "horizontal", "max_shift": 0.0,
                       "paste_classes": (VEHICLE, PERSON, POLE)}  # fmt: skip
# Base colours per class; each scene jitters them, so colour alone does not give the class.
_BASE = {
    ROAD: (0.35, 0.35, 0.37), SIDEWALK: (0.6, 0.58, 0.55), BUILDING: (0.55, 0.45, 0.4),
    SKY: (0.55, 0.7, 0.9), VEGETATION: (0.25, 0.45, 0.2), VEHICLE: (0.6, 0.1, 0.1),
    PERSON: (0.3, 0.25, 0.4), POLE: (0.4, 0.4, 0.4),
}  # fmt: skip


def _noise(rng, size, scale):
    """Smooth noise: a coarse random grid upsampled to ``size``, in about [-1, 1]."""
    cells = max(2, size // scale)
    grid = rng.uniform(-1, 1, (cells + 1, cells + 1))
    position = np.linspace(0, cells, size, endpoint=False)
    low = np.floor(position).astype(int)
    weight = position - low
    rows = grid[low] * (1 - weight)[:, None] + grid[low + 1] * weight[:, None]
    return rows[:, low] * (1 - weight) + rows[:, low + 1] * weight


class _Canvas:
    """An image and its mask, painted region by region (later regions hide earlier ones)."""

    def __init__(self, size, any_colour=False):
        self.size = size
        self.any_colour = any_colour  # this scene's classes take any colour
        self.image = np.zeros((size, size, 3))
        self.mask = np.zeros((size, size), np.int32)
        self.ys, self.xs = np.mgrid[0:size, 0:size] + 0.5

    def colour(self, rng, label, spread=0.18):
        """A colour for one region of ``label``: its base colour jittered by ``spread``, or
        any colour in an any-colour scene."""
        if self.any_colour:
            return rng.uniform(0.05, 0.95, 3)
        return np.clip(np.array(_BASE[label]) + rng.uniform(-spread, spread, 3), 0.02, 0.98)

    def paint(self, region, label, colour, texture=0.0):
        """Colours ``region`` with ``colour`` times ``1 + texture`` (a number or an HxW
        array) and labels it."""
        shade = np.asarray(colour) * (1.0 + np.asarray(texture, float)[..., None])
        self.image[region] = np.broadcast_to(shade, self.image.shape)[region]
        self.mask[region] = label


def _sky_and_road(canvas, rng, horizon, vanish_x, road_half):
    """Sky above the horizon, sidewalk below it, and the road: ``road_half`` pixels either
    side of the vanishing point at the bottom row, narrowing to it at the horizon."""
    size = canvas.size
    ys, xs = canvas.ys, canvas.xs
    sky = ys < horizon
    gradient = (ys / horizon) * 0.25 + 0.15 * np.clip(_noise(rng, size, 6), 0, 1)  # clouds
    canvas.paint(sky, SKY, canvas.colour(rng, SKY), gradient)
    canvas.paint(~sky, SIDEWALK, canvas.colour(rng, SIDEWALK), 0.1 * _noise(rng, size, 3))
    depth = np.clip((ys - horizon) / (size - horizon), 1e-3, 1)  # 0 at the horizon, 1 below
    road = ~sky & (np.abs(xs - vanish_x) <= depth * road_half)
    texture = 0.12 * _noise(rng, size, 2) + rng.normal(0, 0.04, (size, size))
    canvas.paint(road, ROAD, canvas.colour(rng, ROAD, 0.1), texture)
    lane = road & (np.abs(xs - vanish_x) <= np.maximum(depth * road_half * 0.03, 0.4))
    lane &= (np.floor(np.log(depth + 0.05) * 6) % 2) == 0  # dashes, longer when near
    canvas.image[lane] = rng.uniform(0.75, 0.95)


def _buildings(canvas, rng, horizon, vanish_x, kerb_half):
    """Facades standing where the sidewalks end (``kerb_half`` pixels either side of the
    vanishing point at the bottom row), side by side outwards, with rows of windows."""
    size = canvas.size
    ys, xs = canvas.ys, canvas.xs
    base = horizon + np.abs(xs - vanish_x) / kerb_half * (size - horizon)  # facade foot
    for side in (-1, 1):
        position = vanish_x
        while 0 <= position < size:
            width = rng.uniform(0.05, 0.3) * size
            low, high = sorted((position, position + side * width))
            roof = horizon - rng.uniform(0.3, 1.6) * (base - horizon)
            facade = (xs >= low) & (xs < high) & (ys >= roof) & (ys < base)
            floors, columns = rng.integers(3, 9), rng.integers(2, 7)
            height = np.maximum(base - roof, 1e-3)
            windows = (((ys - roof) / height * floors) % 1 < 0.5) & (
                ((xs - low) / width * columns) % 1 < 0.45)  # fmt: skip
            texture = 0.08 * _noise(rng, size, 4) - rng.uniform(0.2, 0.45) * windows
            canvas.paint(facade, BUILDING, canvas.colour(rng, BUILDING, 0.25), texture)
            position += side * width


def _objects(canvas, rng, horizon, vanish_x, road_half):
    """Trees, poles, cars and people, drawn far to near so that near ones hide far ones;
    ``lateral`` is in road half-widths from the centre line (the kerb is at 1)."""
    size = canvas.size
    ys, xs = canvas.ys, canvas.xs
    side = lambda: rng.choice([-1, 1])  # noqa: E731
    objects = [("car", rng.uniform(0.1, 1), rng.uniform(-0.7, 0.7))
               for _ in range(rng.integers(1, 5))]  # fmt: skip
    objects += [("person", rng.uniform(0.25, 1), side() * rng.uniform(1.1, 1.4))
                for _ in range(rng.integers(0, 5))]  # fmt: skip
    objects += [("tree", rng.uniform(0.05, 1), side() * rng.uniform(1.1, 1.5))
                for _ in range(rng.integers(1, 5))]  # fmt: skip
    objects += [("pole", rng.uniform(0.25, 1), side() * 1.05) for _ in range(rng.integers(0, 3))]
    for kind, depth, lateral in sorted(objects, key=lambda item: item[1]):
        ground_y = horizon + depth * (size - horizon)
        unit = depth * road_half  # one road half-width at that depth, in pixels
        x = vanish_x + lateral * unit
        if kind == "car":
            width, height = unit * 0.6, unit * 0.35
            body = (np.abs(xs - x) < width / 2) & (ys < ground_y) & (ys > ground_y - height)
            cabin = (np.abs(xs - x) < width * 0.35) & (ys <= ground_y - height) & (
                ys > ground_y - height * 1.6)  # fmt: skip
            glass = cabin & (ys > ground_y - height * 1.5) & (np.abs(xs - x) < width * 0.3)
            wheels = body & (ys > ground_y - height * 0.3) & (
                np.abs(np.abs(xs - x) - width * 0.32) < width * 0.1)  # fmt: skip
            texture = np.where(glass, -0.6, 0.0) + np.where(wheels, -0.8, 0.0)
            canvas.paint(body | cabin, VEHICLE, rng.uniform(0.05, 0.95, 3), texture)
        elif kind == "person":
            height = unit * rng.uniform(0.6, 0.9)
            width = height * 0.35
            torso = ((xs - x) / (width / 2)) ** 2 + (
                (ys - (ground_y - height * 0.45)) / (height * 0.45)) ** 2 <= 1  # fmt: skip
            head = (xs - x) ** 2 + (ys - (ground_y - height * 0.95)) ** 2 <= (width * 0.35) ** 2
            clothes = canvas.colour(rng, PERSON, 0.25)
            canvas.paint(torso | head, PERSON, clothes, 0.15 * _noise(rng, size, 2))
        elif kind == "tree":
            height = unit * rng.uniform(0.9, 1.6)
            radius = height * rng.uniform(0.25, 0.4)
            trunk = (np.abs(xs - x) < radius * 0.12) & (ys < ground_y) & (
                ys > ground_y - height * 0.6)  # fmt: skip
            wobble = 1 + 0.25 * _noise(rng, size, 3)
            crown = (xs - x) ** 2 + (ys - (ground_y - height * 0.7)) ** 2 <= (radius * wobble) ** 2
            canvas.paint(trunk, VEGETATION, (0.35, 0.25, 0.15), 0.1 * _noise(rng, size, 2))
            leaves = 0.3 * _noise(rng, size, 1) + rng.normal(0, 0.08, (size, size))
            canvas.paint(crown, VEGETATION, canvas.colour(rng, VEGETATION), leaves)
        else:
            height = unit * rng.uniform(1.2, 2.0)
            pole = (np.abs(xs - x) < max(unit * 0.05, 1.5)) & (ys < ground_y) & (
                ys > ground_y - height)  # fmt: skip
            sign = (np.abs(xs - x) < unit * 0.08) & (np.abs(ys - (ground_y - height)) < unit * 0.06)
            canvas.paint(pole | sign, POLE, canvas.colour(rng, POLE, 0.2))


def _blur(image, passes):
    """``passes`` 3-tap box blurs along each axis."""
    for _ in range(passes):
        image = (np.roll(image, 1, 0) + image + np.roll(image, -1, 0)) / 3
        image = (np.roll(image, 1, 1) + image + np.roll(image, -1, 1)) / 3
    return image


def _weather(canvas, rng, weather, horizon):
    """The canvas's image under ``weather``: clear; fog that thickens with distance
    (strongest at the horizon and in the sky); dusk (dimmer and orange); night (dark and
    blue, while the brightest ground pixels, such as lane markings, stay bright and warm,
    like lights)."""
    image = canvas.image
    ys, size = canvas.ys, canvas.size
    if weather == "fog":
        nearness = np.clip((ys - horizon) / (size - horizon), 0, 1)  # 0 at the horizon
        haze = (rng.uniform(0.6, 0.95) * (1 - nearness) ** 0.7)[..., None]
        return image * (1 - haze) + rng.uniform(0.6, 0.85) * haze
    if weather == "dusk":
        return image * rng.uniform(0.45, 0.7) * np.array([1.25, 0.9, 0.7])
    if weather == "night":
        bright = (image.mean(-1, keepdims=True) > 0.7) & (canvas.mask[..., None] != SKY)
        dark = image * rng.uniform(0.12, 0.3) * np.array([0.8, 0.9, 1.3])
        return np.where(bright, image * np.array([1.0, 0.95, 0.6]), dark)
    return image


def street_example(index, image_size=128, seed=0):
    """One street scene as ``(image float32 HxWx3 in [0, 1], mask int32 HxW)``.

    Classes: ``STREET_CLASSES`` (road 0, sidewalk 1, building 2, sky 3, vegetation 4,
    vehicle 5, person 6, pole 7).

    Example:
        >>> image, mask = keras_segen.data.street_example(0, image_size=64)
        >>> image.shape, image.dtype, mask.shape, int(mask.max()) <= 7
        ((64, 64, 3), dtype('float32'), (64, 64), True)
    """
    rng = np.random.default_rng([seed, index, 7])
    size = image_size
    weather = rng.choice(["clear", "fog", "dusk", "night"], p=[0.5, 0.2, 0.15, 0.15])
    canvas = _Canvas(size, any_colour=rng.random() < 0.25)
    horizon = rng.uniform(0.3, 0.55) * size
    vanish_x = rng.uniform(0.3, 0.7) * size
    road_half = rng.uniform(0.35, 0.6) * size
    _sky_and_road(canvas, rng, horizon, vanish_x, road_half)
    _buildings(canvas, rng, horizon, vanish_x, road_half * rng.uniform(1.4, 1.9))
    _objects(canvas, rng, horizon, vanish_x, road_half)
    image = _weather(canvas, rng, weather, horizon)
    # lighting: exposure, a colour cast, a soft cast shadow across the street
    image = image * rng.uniform(0.6, 1.3) * (1 + rng.uniform(-0.12, 0.12, 3))
    angle = rng.uniform(-1, 1)
    shadow = (canvas.ys - horizon) > (canvas.xs - rng.uniform(0, size)) * angle
    image = image * np.where(shadow & (canvas.mask != SKY), rng.uniform(0.55, 1.0), 1.0)[..., None]
    image = _blur(image, int(rng.integers(0, 3)))
    image = image + rng.normal(0, rng.uniform(0.005, 0.04), image.shape)
    return np.clip(image, 0, 1).astype(np.float32), canvas.mask


def street_arrays(num_examples, image_size=128, seed=0, start=0):
    """Street scenes ``start .. start + num_examples - 1`` stacked: uint8 images and masks."""
    images = np.empty((num_examples, image_size, image_size, 3), np.uint8)
    masks = np.empty((num_examples, image_size, image_size), np.uint8)
    for i in range(num_examples):
        image, mask = street_example(start + i, image_size, seed)
        images[i] = np.round(image * 255)
        masks[i] = mask
    return images, masks
