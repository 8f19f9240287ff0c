from modeld.cli import main

raise SystemExit(main())
