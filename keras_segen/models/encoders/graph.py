"""Where a functional CNN's features are, read from its config: the stride of every layer,
the pyramid taps "P1".."P5" (at each stride, the last layer on every path to the output)
and the atrous rewrite that lowers its output stride.

Everything works on ``model.get_config()`` (the public functional format), so one rule
serves every Keras Applications family and the library's own encoders: no table of layer
names typed by hand.
"""

# Layers whose output is never a feature map of the pyramid.
NOT_FEATURES = ("InputLayer", "ZeroPadding2D", "Cropping2D", "GlobalAveragePooling2D",
                "GlobalMaxPooling2D")  # fmt: skip
PYRAMID_LEVELS = (1, 2, 3, 4, 5)
OUTPUT_STRIDES = (8, 16, 32)


def inbound_layers(layer):
    """Names of the layers whose outputs a layer config consumes, in order."""
    names = []

    def visit(value):
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                names.append(value["config"]["keras_history"][0])
                return
            for item in value.values():
                visit(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)

    visit(layer.get("inbound_nodes", []))
    return names


def _step(layer):
    """The spatial stride a layer applies (1 where it has none; a nested Sequential
    model's is the product of its layers')."""
    if layer["class_name"] == "Sequential":
        product = 1
        for inner in layer["config"]["layers"]:
            product *= _step(inner)
        return product
    strides = layer["config"].get("strides")
    if strides is None:
        return 1
    return int(strides[0] if isinstance(strides, (list, tuple)) else strides)


def layer_strides(config):
    """``{layer name: (input stride, output stride)}``: the product of the strides on the
    way from the input (the nominal stride, whatever the padding)."""
    strides = {}
    for layer in config["layers"]:
        stride_in = max((strides[name][1] for name in inbound_layers(layer)), default=1)
        strides[layer["name"]] = (stride_in, stride_in * _step(layer))
    return strides


def endpoint_names(entries):
    """Layer names of a functional config's ``input_layers`` or ``output_layers`` (a
    ``[name, node, index]`` triple, a list of them, or a dict of them)."""
    if isinstance(entries, dict):
        return [value[0] for value in entries.values()]
    if entries and isinstance(entries[0], str):
        return [entries[0]]
    return [entry[0] for entry in entries]


def needed_layers(config):
    """Names of the layers the config's outputs depend on (the rest can be dropped)."""
    by_name = {layer["name"]: layer for layer in config["layers"]}
    needed, pending = set(), list(endpoint_names(config["output_layers"]))
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(inbound_layers(by_name[name]))
    return needed


def on_every_path(config):
    """Names of the layers every path from the input to the output passes through (the
    output's dominators): a residual block's sum, not a layer inside one of its branches."""
    dominators = {}
    for layer in config["layers"]:
        sources = inbound_layers(layer)
        common = set.intersection(*(dominators[name] for name in sources)) if sources else set()
        dominators[layer["name"]] = common | {layer["name"]}
    return dominators[endpoint_names(config["output_layers"])[0]]


def pyramid_taps(config):
    """``{"P1": layer name, ...}``: at each stride ``2**n``, the last layer that every path
    to the output passes through (else the last layer; padding, cropping and global pooling
    excluded); the network's output is the deepest level.

    Levels the network has no layer at (a stride-4 stem has no P1) are left out.
    """
    strides = layer_strides(config)
    cut_points = on_every_path(config)
    last, last_cut = {}, {}
    for layer in config["layers"]:
        if layer["class_name"] not in NOT_FEATURES:
            stride = strides[layer["name"]][1]
            last[stride] = layer["name"]
            if layer["name"] in cut_points:
                last_cut[stride] = layer["name"]
    # NASNet's cells read the two previous cells: no single cut point between its reductions,
    # so those levels fall back to the last layer at the stride.
    last.update(last_cut)
    taps = {f"P{level}": last[2**level] for level in PYRAMID_LEVELS if 2**level in last}
    output = endpoint_names(config["output_layers"])[0]
    deepest = strides[output][1]
    if deepest not in (2**level for level in PYRAMID_LEVELS):
        raise ValueError(f"the network's output {output!r} has stride {deepest}, not 2..32.")
    taps[f"P{deepest.bit_length() - 1}"] = output
    return taps


def _kernel(layer):
    size = layer["config"].get("kernel_size") or layer["config"].get("pool_size") or 1
    return max(size) if isinstance(size, (list, tuple)) else int(size)


def dilate(config, output_stride):
    """Rewrites a functional config so that its deepest features come at ``output_stride``.

    The atrous algorithm of DeepLab (Chen et al. 2017), applied to every layer whose
    input is already at ``output_stride`` or deeper (input stride ``s``): strides become 1,
    convolutions wider than 1x1 get dilation ``s / output_stride`` (the first strided
    convolution keeps its old rate, later ones the new), explicit zero padding and
    ``"valid"`` padding become ``"same"`` so that sizes stay at ``output_stride``.
    The weights are unchanged: a model from the rewritten config takes the original's.
    """
    if output_stride not in OUTPUT_STRIDES:
        raise ValueError(f"output_stride must be one of {OUTPUT_STRIDES}; got {output_stride!r}.")
    strides = layer_strides(config)
    consumers = {}
    for layer in config["layers"]:
        for source in inbound_layers(layer):
            consumers.setdefault(source, []).append(layer)
    for layer in config["layers"]:
        stride_in, stride_out = strides[layer["name"]]
        following = consumers.get(layer["name"], [])
        if layer["class_name"] == "Sequential":
            _rewrite_sequence(layer, stride_in, output_stride)
        elif layer["class_name"] == "ZeroPadding2D":
            if any(strides[after["name"]][1] > output_stride for after in following):
                layer["config"]["padding"] = [[0, 0], [0, 0]]  # the next layer pads "same"
        elif stride_out > output_stride:
            _rewrite(layer, stride_in, stride_out, output_stride)
    return config


def _rewrite_sequence(sequential, stride_in, output_stride):
    """``dilate`` inside a nested Sequential model (ConvNeXt's stem and downsamplers); its
    input size is left open, since the layers before it may now run at another size."""
    settings = sequential["config"]
    if settings.get("build_input_shape"):
        settings["build_input_shape"] = [None, None, None, settings["build_input_shape"][-1]]
    layers = settings["layers"]
    for index, layer in enumerate(layers):
        if layer["class_name"] == "InputLayer":
            shape = layer["config"]["batch_shape"]
            layer["config"]["batch_shape"] = [None, None, None, shape[-1]]
        stride_out = stride_in * _step(layer)
        if layer["class_name"] == "ZeroPadding2D":
            after = layers[index + 1 : index + 2]
            if after and stride_out * _step(after[0]) > output_stride:
                layer["config"]["padding"] = [[0, 0], [0, 0]]
        elif stride_out > output_stride:
            _rewrite(layer, stride_in, stride_out, output_stride)
        stride_in = stride_out


def _rewrite(layer, stride_in, stride_out, output_stride):
    """One layer past ``output_stride``: stride 1, dilation, "same" padding."""
    name, settings = layer.get("name") or layer["config"].get("name"), layer["config"]
    if stride_in < output_stride:
        raise ValueError(
            f"layer {name!r} goes from stride {stride_in} to {stride_out} in one step; "
            f"output_stride {output_stride} cannot be reached by dilation."
        )
    if settings.get("strides") is not None:
        settings["strides"] = [1, 1]
    if _kernel(layer) > 1:
        if "dilation_rate" in settings:
            rate = stride_in // output_stride
            settings["dilation_rate"] = [rate, rate]
        if settings.get("padding") == "valid":
            settings["padding"] = "same"
