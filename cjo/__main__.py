from cjo.cli import main

raise SystemExit(main())
