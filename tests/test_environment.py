import torch

from kit.environment import describe_environment, stack_fingerprint


def test_hardware_records_the_cpu_kernels_torch_dispatches():
    hw = describe_environment(device="cpu")["hardware"]
    assert hw["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert hw["cpu_capability"]  # e.g. AVX2 or AVX512: bitsandbytes' CPU speed and float results depend on it


def test_cpu_capability_is_recorded_but_does_not_trigger_revalidation():
    env = describe_environment(device="cpu")
    other = env | {"hardware": env["hardware"] | {"cpu_capability": "DEFAULT"}}
    assert stack_fingerprint(env) == stack_fingerprint(other)
