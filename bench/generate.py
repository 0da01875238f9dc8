#!/usr/bin/env python3
"""Writes a realistic Django + React monorepo of about --lines lines, deterministic per --seed.

backend/: a Django project with split settings and apps (models with FK/O2O/M2M, views, DRF
serializers and viewsets, services, Celery tasks, admin, urls, migrations, templates, tests).
frontend/: a React app in TSX/JSX/TS/JS (components with tests and stories, hooks, API
services, pages, utils). About half the lines are Python, half JS/TS. Findings are rare and
realistic (a console.log, a TODO, an N+1 loop, a FIXME, a debugger), a few per hundred files.

    python3 bench/generate.py --lines 1000000 --out target/bench/tree-1000000
"""

import argparse
import os
import random
import shutil

NOUNS = [
    "order", "invoice", "customer", "product", "shipment", "payment", "review", "coupon", "ticket",
    "project", "task", "comment", "account", "profile", "report", "booking", "room", "vendor",
    "warehouse", "article", "category", "subscription", "plan", "team", "member", "event", "venue",
    "course", "lesson", "student", "teacher", "policy", "claim", "device", "sensor", "reading",
]
FIELDS = [
    ("title", "models.CharField(max_length=200)"),
    ("slug", "models.SlugField(unique=True)"),
    ("description", "models.TextField(blank=True)"),
    ("amount", "models.DecimalField(max_digits=10, decimal_places=2, default=0)"),
    ("quantity", "models.PositiveIntegerField(default=0)"),
    ("is_active", "models.BooleanField(default=True)"),
    ("created_at", "models.DateTimeField(auto_now_add=True)"),
    ("updated_at", "models.DateTimeField(auto_now=True)"),
    ("metadata", "models.JSONField(default=dict, blank=True)"),
    ("email", "models.EmailField(blank=True)"),
    ("status", "models.CharField(max_length=20, choices=STATUS_CHOICES, default='draft')"),
]


def camel(s):
    return "".join(p.capitalize() for p in s.split("_"))


class Writer:
    def __init__(self, root, rng):
        self.root = root
        self.rng = rng
        self.lines = {"python": 0, "js": 0}
        self.files = 0
        self.planted = {}

    def write(self, rel, text, kind):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        self.files += 1
        if kind:
            self.lines[kind] += text.count("\n")

    def plant(self, what, chance):
        """Whether to plant a finding of kind `what` here, with probability `chance`."""
        if self.rng.random() < chance:
            self.planted[what] = self.planted.get(what, 0) + 1
            return True
        return False


def model_code(w, app, models):
    out = ["from django.conf import settings", "from django.db import models", "", ""]
    out.append("STATUS_CHOICES = [('draft', 'Draft'), ('live', 'Live'), ('archived', 'Archived')]")
    out += ["", ""]
    out.append("class TimeStamped(models.Model):")
    out.append("    created_at = models.DateTimeField(auto_now_add=True)")
    out.append("    updated_at = models.DateTimeField(auto_now=True)")
    out += ["", "    class Meta:", "        abstract = True", "", ""]
    for i, m in enumerate(models):
        cls = camel(m)
        out.append(f"class {cls}QuerySet(models.QuerySet):")
        out.append("    def active(self):")
        out.append("        return self.filter(is_active=True)")
        out += ["", ""]
        out.append(f"class {cls}(TimeStamped):")
        for name, decl in w.rng.sample(FIELDS, 5):
            if name not in ("created_at", "updated_at"):
                out.append(f"    {name} = {decl}")
        out.append("    is_active = models.BooleanField(default=True)")
        out.append(f"    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name='{app}_{m}s')")
        if i > 0:
            parent = camel(models[i - 1])
            out.append(f"    {models[i - 1]} = models.ForeignKey({parent}, on_delete=models.CASCADE, related_name='{m}s')")
        if i > 1:
            out.append(f"    related = models.ManyToManyField({camel(models[0])}, blank=True, related_name='{m}_related')")
        if i == 2:
            out.append(f"    detail = models.OneToOneField({camel(models[1])}, null=True, on_delete=models.SET_NULL)")
        out.append("")
        out.append(f"    objects = {cls}QuerySet.as_manager()")
        out += ["", "    class Meta:", f"        ordering = ['-created_at']", f"        verbose_name = '{m}'", ""]
        out.append("    def __str__(self):")
        out.append("        return str(self.pk)")
        out += ["", "    @property", "    def label(self):", f"        return f'{m} {{self.pk}}'", "", ""]
    return "\n".join(out) + "\n"


def views_code(w, app, models):
    out = ["from django.shortcuts import get_object_or_404, render", "from django.views.generic import ListView", ""]
    out.append(f"from .models import {', '.join(camel(m) for m in models)}")
    out += ["", ""]
    for i, m in enumerate(models):
        cls = camel(m)
        out.append(f"class {cls}ListView(ListView):")
        out.append(f"    model = {cls}")
        out.append("    paginate_by = 50")
        out.append(f"    template_name = '{app}/{m}_list.html'")
        out += ["", "    def get_queryset(self):"]
        if i > 0:
            out.append(f"        return {cls}.objects.active().select_related('{models[i - 1]}', 'owner')")
        else:
            out.append(f"        return {cls}.objects.active().select_related('owner')")
        out += ["", ""]
        out.append(f"def {m}_detail(request, pk):")
        out.append(f"    obj = get_object_or_404({cls}, pk=pk)")
        if w.plant("todo-fixme", 0.03):
            out.append("    # TODO: check object permissions before rendering")
        out.append(f"    return render(request, '{app}/{m}_detail.html', {{'object': obj}})")
        out += ["", ""]
        out.append(f"def {m}_summary(request):")
        if i > 0 and w.plant("django-n-plus-one", 0.04):
            out.append(f"    rows = {cls}.objects.filter(is_active=True)")
            out.append(f"    data = [(row.pk, row.{models[i - 1]}.pk) for row in rows]")
        else:
            out.append(f"    rows = {cls}.objects.filter(is_active=True).values('pk', 'owner_id')")
            out.append("    data = [(row['pk'], row['owner_id']) for row in rows]")
        out.append(f"    return render(request, '{app}/{m}_summary.html', {{'data': data}})")
        out += ["", ""]
    return "\n".join(out) + "\n"


def serializers_code(w, app, models):
    out = ["from rest_framework import serializers", "", f"from .models import {', '.join(camel(m) for m in models)}", "", ""]
    for i, m in enumerate(models):
        cls = camel(m)
        out.append(f"class {cls}Serializer(serializers.ModelSerializer):")
        if i > 0:
            out.append(f"    {models[i - 1]} = {camel(models[i - 1])}Serializer(read_only=True)")
        out += ["", "    class Meta:", f"        model = {cls}"]
        fields = ["id", "is_active", "created_at"] + ([models[i - 1]] if i > 0 else [])
        out.append(f"        fields = {fields!r}")
        out.append("        read_only_fields = ['id', 'created_at']")
        out += ["", ""]
    return "\n".join(out) + "\n"


def api_code(w, app, models):
    out = ["from rest_framework import permissions, viewsets", ""]
    out.append(f"from .models import {', '.join(camel(m) for m in models)}")
    out.append(f"from .serializers import {', '.join(camel(m) + 'Serializer' for m in models)}")
    out += ["", ""]
    for i, m in enumerate(models):
        cls = camel(m)
        out.append(f"class {cls}ViewSet(viewsets.ModelViewSet):")
        chain = "__".join(models[i - 1 :: -1]) if i > 0 else ""
        sel = f".select_related('{chain}')" if i > 0 else ""
        out.append(f"    queryset = {cls}.objects.all(){sel}")
        out.append(f"    serializer_class = {cls}Serializer")
        out.append("    permission_classes = [permissions.IsAuthenticated]")
        out += ["", "    def perform_create(self, serializer):", "        serializer.save(owner=self.request.user)", "", ""]
    return "\n".join(out) + "\n"


def services_code(w, app, models):
    out = ["import logging", "from decimal import Decimal", "", "from django.db import transaction", ""]
    out.append(f"from .models import {', '.join(camel(m) for m in models)}")
    out += ["", "logger = logging.getLogger(__name__)", "", ""]
    for i, m in enumerate(models):
        cls = camel(m)
        out.append(f"def archive_{m}s(owner):")
        out.append(f"    qs = {cls}.objects.filter(owner=owner, is_active=True)")
        out.append("    count = 0")
        out.append("    with transaction.atomic():")
        out.append("        for obj in qs.iterator():")
        out.append("            obj.is_active = False")
        out.append("            obj.save(update_fields=['is_active'])")
        out.append("            count += 1")
        out.append(f"    logger.info('archived %s {m}s', count)")
        out.append("    return count")
        out += ["", ""]
        out.append(f"def total_{m}_amount(items):")
        out.append("    total = Decimal('0')")
        out.append("    for item in items:")
        out.append("        total += Decimal(str(getattr(item, 'amount', 0)))")
        if w.plant("todo-fixme", 0.01):
            out.append("    # FIXME: rounding differs from the invoice service")
        out.append("    return total.quantize(Decimal('0.01'))")
        out += ["", ""]
    return "\n".join(out) + "\n"


def tasks_code(w, app, models):
    out = ["from celery import shared_task", "", f"from .services import {', '.join('archive_' + m + 's' for m in models)}", "", ""]
    for m in models:
        out.append("@shared_task(bind=True, max_retries=3)")
        out.append(f"def archive_{m}s_task(self, owner_id):")
        out.append("    from django.contrib.auth import get_user_model")
        out.append("")
        out.append("    owner = get_user_model().objects.get(pk=owner_id)")
        out.append(f"    return archive_{m}s(owner)")
        out += ["", ""]
    return "\n".join(out) + "\n"


def migration_code(app, models, n):
    out = ["from django.conf import settings", "from django.db import migrations, models", "import django.db.models.deletion", "", ""]
    out.append("class Migration(migrations.Migration):")
    if n == 1:
        out += ["    initial = True", "", "    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]", ""]
        out.append("    operations = [")
        for m in models:
            out.append("        migrations.CreateModel(")
            out.append(f"            name='{camel(m)}',")
            out.append("            fields=[")
            out.append("                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),")
            out.append("                ('created_at', models.DateTimeField(auto_now_add=True)),")
            out.append("                ('is_active', models.BooleanField(default=True)),")
            out.append("            ],")
            out.append("        ),")
        out.append("    ]")
    else:
        out += [f"    dependencies = [('{app}', '{n - 1:04d}_auto')]", "", "    operations = ["]
        m = models[n % len(models)]
        out.append("        migrations.AddField(")
        out.append(f"            model_name='{m}',")
        out.append(f"            name='note_{n}',")
        out.append("            field=models.TextField(blank=True, default=''),")
        out.append("        ),")
        out.append("    ]")
    return "\n".join(out) + "\n"


def test_code(app, models):
    out = ["import pytest", "", f"from {app}.models import {camel(models[0])}", "", ""]
    for m in models:
        out.append("@pytest.mark.django_db")
        out.append(f"def test_{m}_list(client, admin_user):")
        out.append("    client.force_login(admin_user)")
        out.append(f"    response = client.get('/{app}/{m}s/')")
        out.append("    assert response.status_code == 200")
        out.append("    print(response.content)  # debugging output is fine in tests")
        out += ["", ""]
    return "\n".join(out) + "\n"


def template_code(app, m):
    return f"""{{% extends "base.html" %}}
{{% block content %}}
<h1>{camel(m)}s</h1>
<ul>
{{% for obj in object_list %}}
  <li><a href="{{% url '{app}:{m}_detail' obj.pk %}}">{{{{ obj.label }}}}</a> {{{{ obj.created_at|date:"Y-m-d" }}}}</li>
{{% empty %}}
  <li>No {m}s yet.</li>
{{% endfor %}}
</ul>
{{% endblock %}}
"""


def component_code(w, name, noun):
    props = camel(noun)
    out = ["import React, { useMemo, useState } from 'react';", f"import {{ use{props}s }} from '../../hooks/use{props}s';", ""]
    out.append(f"export interface {name}Props {{")
    out.append("  title: string;")
    out.append("  pageSize?: number;")
    out.append("  onSelect?: (id: number) => void;")
    out.append("}")
    out.append("")
    out.append(f"export function {name}({{ title, pageSize = 20, onSelect }}: {name}Props) {{")
    out.append(f"  const {{ data, loading, error }} = use{props}s();")
    out.append("  const [query, setQuery] = useState('');")
    out.append("  const visible = useMemo(")
    out.append("    () => (data ?? []).filter((item) => item.label.toLowerCase().includes(query.toLowerCase())).slice(0, pageSize),")
    out.append("    [data, query, pageSize],")
    out.append("  );")
    if w.plant("console-log", 0.02):
        out.append("  console.log('visible items', visible);")
    out.append("  if (error) {")
    out.append("    console.error('failed to load', error);")
    out.append("    return <p className=\"error\">Could not load items.</p>;")
    out.append("  }")
    out.append("  return (")
    out.append("    <section>")
    out.append("      <h2>{title}</h2>")
    out.append("      <input value={query} onChange={(e) => setQuery(e.target.value)} placeholder=\"Search\" />")
    out.append("      {loading ? <p>Loading…</p> : null}")
    out.append("      <ul>")
    out.append("        {visible.map((item) => (")
    out.append("          <li key={item.id} onClick={() => onSelect?.(item.id)}>")
    out.append("            {item.label}")
    out.append("          </li>")
    out.append("        ))}")
    out.append("      </ul>")
    out.append("    </section>")
    out.append("  );")
    out.append("}")
    return "\n".join(out) + "\n"


def component_test(name):
    return f"""import {{ render, screen }} from '@testing-library/react';
import {{ {name} }} from './{name}';

describe('{name}', () => {{
  it('renders the title', () => {{
    render(<{name} title="Things" />);
    console.log(screen.debug());
    expect(screen.getByText('Things')).toBeInTheDocument();
  }});
}});
"""


def story(name):
    return f"""import type {{ Meta, StoryObj }} from '@storybook/react';
import {{ {name} }} from './{name}';

const meta: Meta<typeof {name}> = {{ component: {name}, title: 'Lists/{name}' }};
export default meta;

export const Default: StoryObj<typeof {name}> = {{ args: {{ title: 'Example', pageSize: 5 }} }};
"""


def hook_code(noun):
    c = camel(noun)
    return f"""import {{ useEffect, useState }} from 'react';
import {{ fetch{c}s, {c} }} from '../services/{noun}Api';

export function use{c}s() {{
  const [data, setData] = useState<{c}[] | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {{
    let cancelled = false;
    fetch{c}s()
      .then((rows) => {{
        if (!cancelled) setData(rows);
      }})
      .catch((e) => {{
        if (!cancelled) setError(e);
      }})
      .finally(() => {{
        if (!cancelled) setLoading(false);
      }});
    return () => {{
      cancelled = true;
    }};
  }}, []);

  return {{ data, loading, error }};
}}
"""


def service_code(w, noun):
    c = camel(noun)
    out = [f"export interface {c} {{", "  id: number;", "  label: string;", "  createdAt: string;", "  isActive: boolean;", "}", ""]
    out.append("const BASE = import.meta.env.VITE_API_URL ?? '/api';")
    out.append("")
    out.append(f"export async function fetch{c}s(): Promise<{c}[]> {{")
    out.append(f"  const res = await fetch(`${{BASE}}/{noun}s/`, {{ credentials: 'include' }});")
    out.append("  if (!res.ok) {")
    out.append(f"    throw new Error(`{noun}s: ${{res.status}}`);")
    out.append("  }")
    out.append("  const body = await res.json();")
    if w.plant("debugger-statement", 0.003):
        out.append("  debugger;")
    out.append("  return body.results.map((r: any) => ({ id: r.id, label: r.label, createdAt: r.created_at, isActive: r.is_active }));")
    out.append("}")
    out.append("")
    out.append(f"export async function delete{c}(id: number): Promise<void> {{")
    out.append(f"  await fetch(`${{BASE}}/{noun}s/${{id}}/`, {{ method: 'DELETE', credentials: 'include' }});")
    out.append("}")
    return "\n".join(out) + "\n"


def page_code(w, noun, comps):
    out = ["import React from 'react';", "import PropTypes from 'prop-types';"]
    for c in comps:
        out.append(f"import {{ {c} }} from '../components/{c}/{c}';")
    out.append("")
    out.append(f"export default function {camel(noun)}Page({{ user }}) {{")
    out.append("  // Renders the TodoList widget for each section.")
    out.append("  return (")
    out.append("    <main>")
    out.append(f"      <h1>{camel(noun)}s for {{user.name}}</h1>")
    for c in comps:
        out.append(f"      <{c} title=\"{c}\" />")
    out.append("    </main>")
    out.append("  );")
    out.append("}")
    out.append("")
    out.append(f"{camel(noun)}Page.propTypes = {{ user: PropTypes.shape({{ name: PropTypes.string }}).isRequired }};")
    return "\n".join(out) + "\n"


def util_code(i):
    return f"""export function formatMoney{i}(cents, currency = 'EUR') {{
  return new Intl.NumberFormat('en', {{ style: 'currency', currency }}).format(cents / 100);
}}

export function debounce{i}(fn, ms = 200) {{
  let t;
  return (...args) => {{
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  }};
}}

export const chunk{i} = (xs, n) => xs.reduce((acc, x, k) => (k % n ? acc[acc.length - 1].push(x) : acc.push([x]), acc), []);
"""


SETTINGS_BASE = """import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "corsheaders",
{apps}
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

ROOT_URLCONF = "config.urls"
CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
"""


def generate(out, lines, seed):
    rng = random.Random(seed)
    if os.path.exists(out):
        shutil.rmtree(out)
    w = Writer(out, rng)
    target_half = lines // 2
    w.write("README.md", "# Generated monorepo\n\nBenchmark input for preflight.\n", None)
    w.write(".gitignore", "node_modules/\n__pycache__/\n.env\n", None)
    w.write("backend/manage.py", "#!/usr/bin/env python\nimport os\nimport sys\n\nif __name__ == '__main__':\n    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.production')\n    from django.core.management import execute_from_command_line\n\n    execute_from_command_line(sys.argv)\n", "python")
    apps = []
    # Backend.
    a = 0
    while w.lines["python"] < target_half:
        app = f"{rng.choice(NOUNS)}s_{a}"
        a += 1
        apps.append(app)
        models = rng.sample(NOUNS, 4)
        base = f"backend/{app}"
        w.write(f"{base}/__init__.py", "", "python")
        w.write(f"{base}/models.py", model_code(w, app, models), "python")
        w.write(f"{base}/views.py", views_code(w, app, models), "python")
        w.write(f"{base}/serializers.py", serializers_code(w, app, models), "python")
        w.write(f"{base}/api.py", api_code(w, app, models), "python")
        w.write(f"{base}/services.py", services_code(w, app, models), "python")
        w.write(f"{base}/tasks.py", tasks_code(w, app, models), "python")
        w.write(f"{base}/admin.py", "from django.contrib import admin\n\nfrom .models import " + ", ".join(camel(m) for m in models) + "\n\n" + "".join(f"admin.site.register({camel(m)})\n" for m in models), "python")
        w.write(f"{base}/migrations/__init__.py", "", "python")
        for n in range(1, 4):
            w.write(f"{base}/migrations/{n:04d}_auto.py", migration_code(app, models, n), "python")
        w.write(f"{base}/tests/__init__.py", "", "python")
        w.write(f"{base}/tests/test_views.py", test_code(app, models), "python")
        for m in models[:2]:
            w.write(f"{base}/templates/{app}/{m}_list.html", template_code(app, m), None)
    apps_list = "\n".join(f'    "{x}",' for x in apps)
    w.write("backend/config/__init__.py", "", "python")
    w.write("backend/config/settings/__init__.py", "", "python")
    w.write("backend/config/settings/base.py", SETTINGS_BASE.format(apps=apps_list), "python")
    w.write("backend/config/settings/dev.py", "from .base import *  # noqa\n\nDEBUG = True\nALLOWED_HOSTS = ['*']\nCORS_ALLOW_ALL_ORIGINS = True\n", "python")
    w.write("backend/config/settings/production.py", "from .base import *  # noqa\n\nSECURE_SSL_REDIRECT = True\nSESSION_COOKIE_SECURE = True\nCSRF_COOKIE_SECURE = True\n", "python")
    w.write("backend/config/urls.py", "from django.urls import include, path\n\nurlpatterns = [\n" + "".join(f"    path('{x}/', include('{x}.urls')),\n" for x in apps[:50]) + "]\n", "python")
    # Frontend.
    c = 0
    nouns_done = set()
    while w.lines["js"] < w.lines["python"]:
        noun = rng.choice(NOUNS)
        name = f"{camel(noun)}List{c}"
        c += 1
        w.write(f"frontend/src/components/{name}/{name}.tsx", component_code(w, name, noun), "js")
        w.write(f"frontend/src/components/{name}/{name}.test.tsx", component_test(name), "js")
        if c % 3 == 0:
            w.write(f"frontend/src/components/{name}/{name}.stories.tsx", story(name), "js")
        if noun not in nouns_done:
            nouns_done.add(noun)
            w.write(f"frontend/src/hooks/use{camel(noun)}s.ts", hook_code(noun), "js")
            w.write(f"frontend/src/services/{noun}Api.ts", service_code(w, noun), "js")
        if c % 4 == 0:
            w.write(f"frontend/src/pages/{camel(noun)}Page{c}.jsx", page_code(w, noun, [name]), "js")
        if c % 5 == 0:
            w.write(f"frontend/src/utils/format{c}.js", util_code(c), "js")
    w.write("frontend/package.json", '{\n  "name": "frontend",\n  "private": true,\n  "scripts": {"build": "vite build"}\n}\n', None)
    w.write("frontend/vite.config.ts", "import { defineConfig } from 'vite';\n\nexport default defineConfig({ server: { port: 3000 } });\nconsole.log('vite config loaded');\n", "js")
    return w


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    w = generate(args.out, args.lines, args.seed)
    total = w.lines["python"] + w.lines["js"]
    print(f"{args.out}: {w.files} files, {total} lines ({w.lines['python']} Python, {w.lines['js']} JS/TS), planted {dict(sorted(w.planted.items()))}")


if __name__ == "__main__":
    main()
