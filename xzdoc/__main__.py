from xzdoc.cli import main

raise SystemExit(main())
