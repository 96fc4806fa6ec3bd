import torch

from kit.environment import describe_environment, stack_fingerprint


def test_hardware_records_the_cpu_kernels_torch_dispatches():
    hw = describe_environment(device="cpu")["hardware"]
    assert hw["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert hw["cpu_capability"]  # e.g. AVX2 or AVX512: bitsandbytes' CPU speed and float results depend on it


def test_cpu_capability_and_engine_are_in_the_stack_fingerprint():
    env = describe_environment(device="cpu")
    other = env | {"hardware": env["hardware"] | {"cpu_capability": "DEFAULT"}}
    assert stack_fingerprint(env) != stack_fingerprint(other)  # a change of ISA triggers re-validation
    assert stack_fingerprint(env)["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert stack_fingerprint(env)["engine"] is None  # a machine's stack does not know the engine
    packed = {"name": "packed", "backend": "torch", "activations": "bfloat16"}
    assert stack_fingerprint(env, engine=packed)["engine"] == packed
