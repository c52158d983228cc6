"""Inventory backends: where instance names come from and where systems are recorded.

`builtin` names instances from a template and keeps its records in PCM's database (this
package's models); `http` talks to an external Inventory service. Others register under
the entry point group `pcm.inventory`.
"""
