"""Reads a TensorFlow.js LayersModel of Dense layers (what aeflow saves) into numpy, for the bench/ references.

model.json holds the topology (each Dense layer's units, activation, use_bias) and the weightsManifest (each
weight's name, shape and dtype, in the order their bytes follow one another in the .bin files). tfjs kernels are
[inputs, units], so a forward pass is x @ kernel + bias.
"""
import json
import os

import numpy as np

# The activations aeflow's dense models use; elu is tfjs's (alpha 1).
ACTIVATIONS = ("sigmoid", "relu", "tanh", "elu", "linear")


def load_dense(folder):
    """[(kernel [in, units] float32, bias [units] or None, activation)] for each Dense layer, in order."""
    with open(os.path.join(folder, "model.json")) as f:
        spec = json.load(f)
    topology = spec["modelTopology"]
    # tfjs writes a Sequential as {class_name, config: {layers}}; Keras-converted files nest it in model_config.
    config = topology.get("model_config", topology)["config"]
    layers = config["layers"] if isinstance(config, dict) else config

    weights = {}
    for group in spec["weightsManifest"]:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            if w["dtype"] != "float32" or "quantization" in w:
                raise ValueError(f"{w['name']}: only plain float32 weights are read, not {w['dtype']}")
            count = int(np.prod(w["shape"]))
            weights[w["name"]] = np.frombuffer(data, "<f4", count, offset).reshape(w["shape"])
            offset += 4 * count

    dense = []
    for layer in layers:
        if layer["class_name"] != "Dense":
            raise ValueError(f"{folder}: layer {layer['class_name']} is not Dense")
        c = layer["config"]
        if c["activation"] not in ACTIVATIONS:
            raise ValueError(f"{c['name']}: activation {c['activation']} is not one of {ACTIVATIONS}")
        kernel = weights[f"{c['name']}/kernel"]
        bias = weights[f"{c['name']}/bias"] if c.get("use_bias", True) else None
        if kernel.shape[1] != c["units"]:
            raise ValueError(f"{c['name']}: kernel {kernel.shape} does not have {c['units']} units")
        dense.append((kernel, bias, c["activation"]))
    return dense
