"""Make this process unable to create symlinks, the way a sandbox or exFAT refuses them.

Landlock (Linux >= 5.13) lets an unprivileged process give up rights for
itself and its children. Handling only LANDLOCK_ACCESS_FS_MAKE_SYM and
granting it nowhere makes every symlink() fail with EACCES while files and
hardlinks still work: a real kernel refusal, so the link canary is tested
against the real thing rather than a patched os.symlink.
"""

from __future__ import annotations

import ctypes
import os

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # same on every arch
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
ACCESS_FS_MAKE_SYM = 1 << 12
ACCESS_FS_REFER = 1 << 13  # linking or renaming a file into another folder
PR_SET_NO_NEW_PRIVS = 38


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)


def available() -> bool:
    return (
        os.uname().sysname == "Linux"
        and _libc.syscall(SYS_CREATE_RULESET, None, 0, CREATE_RULESET_VERSION) >= 1
    )


def deny_symlinks(allow_links_across_folders: bool = True) -> None:
    """No symlink anywhere from now on; hardlinks across folders only if allowed.

    Once a ruleset handles anything, Landlock refuses to link a file into
    another folder (EXDEV) unless REFER is granted, as some sandboxes do.
    """
    handled = ACCESS_FS_MAKE_SYM | ACCESS_FS_REFER
    attr = ctypes.c_uint64(handled)  # struct landlock_ruleset_attr, ABI 1 layout
    fd = _libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    if allow_links_across_folders:
        root = os.open("/", os.O_PATH)
        rule = _PathBeneath(ACCESS_FS_REFER, root)
        if _libc.syscall(SYS_ADD_RULE, fd, RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_add_rule")
        os.close(root)
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if _libc.syscall(SYS_RESTRICT_SELF, fd, 0) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    os.close(fd)
