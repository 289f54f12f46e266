"""`careledger serve`: the HTTP service over the same library the CLI uses (docs/service.md).

The package is an interface like the CLI: it parses a request, calls the library
once and renders the answer. FastAPI and uvicorn stay here (an import-linter
contract keeps them out of domain/ and projections/).
"""
