"""Config as code: a sandbox's connections and dataflows as one YAML file (`model`), read with every problem on the
line it is on (`load`), and its JSON Schema, published beside the API's OpenAPI document for editors to check files
against. The file never holds a secret: each is a reference, `${ENV_NAME}`, `{file: PATH}` or `ask`.
"""
