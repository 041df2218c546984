"""Run inside a live process by ``pinkclinic --pid`` (see pinkclinic/target/inject.py),
in a namespace of its own, with ``CONFIG`` set above this text: the probe's
configuration plus ``package`` (the folder of ``pinkclinic_probe``).

It loads ``pinkclinic_probe`` from that folder without touching ``sys.path`` and calls
``pinkclinic_probe._attached.attach``, which starts the probe on a thread of its own
and returns at once. A refusal (a probe already there, an old Python, an error) is one
line in ``<dir>/attach-<PID>.err``. Nothing here raises into the target.
"""
import os
import sys


def _main(config):
    if sys.version_info < (3, 8) or sys.implementation.name != "cpython":
        return f"the probe needs CPython 3.8+, not {sys.implementation.name} {sys.version.split()[0]}"
    module = sys.modules.get("pinkclinic_probe")
    if module is not None and not getattr(module, "_pinkclinic_attached", False):
        return "the process already runs pinkclinic's probe (it was launched by pinkclinic)"
    if module is None:
        import importlib.util
        package = config.pop("package")
        spec = importlib.util.spec_from_file_location(
            "pinkclinic_probe", os.path.join(package, "__init__.py"),
            submodule_search_locations=[package])
        module = importlib.util.module_from_spec(spec)
        module._pinkclinic_attached = True
        sys.modules["pinkclinic_probe"] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop("pinkclinic_probe", None)
            raise
    from pinkclinic_probe import _attached
    return _attached.attach(config)


def _refuse(config, why):
    try:
        path = os.path.join(config["dir"], f"attach-{os.getpid()}.err")
        with open(path, "w") as f:
            f.write(why[:500] + "\n")
    except Exception:
        pass


try:
    _why = _main(dict(CONFIG))  # noqa: F821 - set by the injector above this text
except Exception as _e:
    _why = f"{type(_e).__name__}: {_e}"
if _why:
    _refuse(CONFIG, _why)  # noqa: F821
