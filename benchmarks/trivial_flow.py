"""A flow that does nothing: what Prefect alone costs a fresh process (run as a module)."""

from prefect import flow


@flow(name="trivial")
def trivial() -> int:
    return 1


if __name__ == "__main__":
    assert trivial() == 1
