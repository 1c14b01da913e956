"""Where TensorFlow runs: a GPU when there is one, several through a distribution strategy, else the CPU."""

from __future__ import annotations

import functools
import hashlib
import os
import platform
from pathlib import Path

import tensorflow as tf


@functools.cache
def gpus() -> tuple:
    """The visible GPUs, with memory growth on so that TensorFlow does not claim all of it at start."""
    devices = tuple(tf.config.list_physical_devices("GPU"))
    for device in devices:
        try:
            tf.config.experimental.set_memory_growth(device, True)
        except RuntimeError:
            pass  # Already initialised by someone else: their setting stands.
    return devices


def default_device() -> str:
    """``"GPU:0"`` when a GPU is visible, else ``"CPU:0"``."""
    return "GPU:0" if gpus() else "CPU:0"


def describe_device() -> str:
    """A one-line, human description of what trains, e.g. ``"GPU: NVIDIA T4"`` or ``"CPU (2 cores)"``."""
    devices = gpus()
    if not devices:
        return f"CPU ({os.cpu_count()} cores)"
    names = []
    for device in devices:
        details = tf.config.experimental.get_device_details(device)
        names.append(details.get("device_name", device.name))
    if len(names) == 1:
        return f"GPU: {names[0]}"
    return f"{len(names)} GPUs ({', '.join(names)}), MirroredStrategy"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), e.g. ``"Intel(R) Xeon(R) Processor"``."""
    return _cpuinfo("model name") or platform.processor() or platform.machine()


@functools.cache  # the CPU does not change under a running process
def cpu_signature() -> str:
    """The CPU as kernels see it: model, cores and a digest of its instruction-set flags (a virtual
    machine's model name, such as "Intel(R) Xeon(R) Processor", covers several generations)."""
    flags = hashlib.sha256(_cpuinfo("flags").encode()).hexdigest()[:12]
    return f"{cpu_model()}, {os.cpu_count()} cores, flags {flags}"


def _cpuinfo(field: str) -> str:
    """The first ``field`` of ``/proc/cpuinfo`` ("" where there is none, as off Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.split(":", 1)[0].strip() == field:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def training_strategy() -> tf.distribute.Strategy:
    """MirroredStrategy over several GPUs, else the default strategy (one GPU or the CPU)."""
    if len(gpus()) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()
