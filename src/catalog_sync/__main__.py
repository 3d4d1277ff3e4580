"""Allow ``python -m catalog_sync``."""

from catalog_sync.cli.main import main

if __name__ == "__main__":
    main()
