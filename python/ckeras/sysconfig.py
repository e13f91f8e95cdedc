"""Build facts, like `tf.sysconfig.get_build_info()`."""
from ckeras import _core


def get_build_info():
    """A dict describing how this ckeras was built: CUDA or not, CUDA version and architectures."""
    cuda = _core.is_cuda_build()
    return {
        "is_cuda_build": cuda,
        "is_rocm_build": False,
        "cuda_version": _core.cuda_build_version() if cuda else None,
        "cuda_compute_capabilities": _core.cuda_build_archs().split() if cuda else [],
        "cpu_simd": _core.cpu_simd_level(),
        "cpu_threads": _core.cpu_num_threads(),
    }
