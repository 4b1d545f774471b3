"""One small made-up file per shape real repositories use (issue 13), each rewritten to exact
bytes, with the exact warnings (left unchanged) and notes (rewritten, with a caveat)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.test_rewrite_mapping import HOST, RULES

from ecrcache.rewrite.dockerfile import _glob_match
from ecrcache.rewrite.files import FileRewrite, rewrite_file_text
from ecrcache.rewrite.mapping import Mapping, routes_from_rules
from ecrcache.rewrite.text import DIGEST_NOTE, VARIABLE

MAPPING = Mapping(routes_from_rules(RULES), HOST)
C = HOST
D = "sha256:" + "ab" * 32


def rewrite(name: str, text: str, **kw: bool) -> FileRewrite:
    return rewrite_file_text(Path(name), text, MAPPING, **kw)


def test_helm_global_image_registry_with_image_paths() -> None:
    """ingress-nginx: ``registry | default global.image.registry`` + ``/`` + ``image``. The
    global becomes the cache host and each path gains the rule's prefix: the chart renders
    <cache>/k8s/ingress-nginx/controller, not registry.k8s.io/<cache>/..."""
    before = (
        "global:\n  image:\n    registry: registry.k8s.io\n"
        "controller:\n  image:\n    # registry: registry.k8s.io\n"
        f'    image: ingress-nginx/controller\n    tag: "v1.15.1"\n    digest: {D}\n'
        "defaultBackend:\n  image:\n    image: defaultbackend-amd64\n    tag: '1.5'\n"
    )
    result = rewrite("values.yaml", before)
    assert result.after == (
        f"global:\n  image:\n    registry: {C}\n"
        "controller:\n  image:\n    # registry: registry.k8s.io\n"
        f'    image: k8s/ingress-nginx/controller\n    tag: "v1.15.1"\n    digest: {D}\n'
        "defaultBackend:\n  image:\n    image: k8s/defaultbackend-amd64\n    tag: '1.5'\n"
    )
    assert result.warnings == ()
    assert result.notes == (
        (7, f"registry.k8s.io/ingress-nginx/controller (digest): {DIGEST_NOTE}"),
    )


def test_helm_global_image_registry_image_with_its_own_equal_registry() -> None:
    before = (
        "global:\n  imageRegistry: quay.io\n"
        "a:\n  image:\n    registry: quay.io\n    repository: org/a\n"
        "b:\n  image:\n    image: org/b\n"
    )
    assert rewrite("values.yaml", before).after == (
        f"global:\n  imageRegistry: {C}\n"
        f"a:\n  image:\n    registry: {C}\n    repository: quay/org/a\n"
        "b:\n  image:\n    image: quay/org/b\n"
    )


def test_helm_global_registry_left_alone_when_one_user_cannot_follow() -> None:
    """The global is shared: when one image that uses it has no rule, none is rewritten
    (rewriting the others would send that one to <cache>/org/x, which does not exist)."""
    before = (
        "global:\n  image:\n    registry: registry.k8s.io\n"
        "a:\n  image:\n    image: ingress-nginx/controller\n"
        "b:\n  image:\n    image: Bad/Name\n"
    )
    result = rewrite("values.yaml", before)
    assert result.after == before
    bad = (
        "invalid image reference 'registry.k8s.io/Bad/Name': repository name (Bad/Name) must "
        "be lowercase"
    )
    assert result.warnings == (
        (
            6,
            "ingress-nginx/controller: its registry comes from global.image.registry "
            "('registry.k8s.io'), shared by 2 images, and it cannot be rewritten for all of "
            f"them ({bad}); left unchanged",
        ),
        (9, bad + "; left unchanged"),
    )


def test_helm_global_and_block_registries_that_disagree_are_left_alone() -> None:
    """Bitnami lets global.imageRegistry win over a block's registry, ingress-nginx the
    reverse: with both set and different, no rewrite is right for every chart."""
    before = (
        "global:\n  imageRegistry: mirror.example.com\n"
        "image:\n  registry: docker.io\n  repository: bitnami/redis\n"
        "sidecar:\n  image:\n    repository: kiwigrid/k8s-sidecar\n"
    )
    result = rewrite("values.yaml", before)
    assert result.after == before
    assert result.warnings == (
        (
            5,
            "bitnami/redis: its registry 'docker.io' differs from global.imageRegistry "
            "('mirror.example.com'), and charts differ on which one wins; left unchanged",
        ),
        (
            8,
            "kiwigrid/k8s-sidecar: global.imageRegistry is 'mirror.example.com' and this block "
            "has no registry of its own: whether the chart puts the global one before its "
            "repository is chart-specific; left unchanged",
        ),
    )


def test_helm_empty_global_leaves_block_registries_in_charge() -> None:
    before = 'global:\n  imageRegistry: ""\nimage:\n  registry: docker.io\n  repository: a/b\n'
    assert rewrite("values.yaml", before).after == (
        f'global:\n  imageRegistry: ""\nimage:\n  registry: {C}\n  repository: docker-hub/a/b\n'
    )


def test_kustomize_images_new_name_is_a_reference_name_a_selector() -> None:
    before = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "images:\n  - name: fluxcd/source-controller\n"
        "    newName: ghcr.io/fluxcd/source-controller\n"
        "  - name: nginx\n    newTag: 1.27\n"
        f"  - name: app\n    newName: quay.io/org/app\n    digest: {D}\n"
    )
    result = rewrite("kustomization.yaml", before)
    assert result.after == (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "images:\n  - name: fluxcd/source-controller\n"
        f"    newName: {C}/github/fluxcd/source-controller\n"
        "  - name: nginx\n    newTag: 1.27\n"
        f"  - name: app\n    newName: {C}/quay/org/app\n    digest: {D}\n"
    )
    assert result.notes == ((9, f"quay.io/org/app: {DIGEST_NOTE}"),)
    assert result.warnings == ()


def test_compose_extension_field_through_merge_keys_rewritten_once_at_the_anchor() -> None:
    before = (
        "x-app: &app\n  image: org/app:__TAG__\n  restart: always\n"
        "x-built: &built\n  image: local-build\n  build: ./src\n"
        "services:\n  web:\n    <<: *app\n    command: web\n"
        "  worker:\n    <<: [*app]\n    command: worker\n"
        "  own:\n    <<: *app\n    image: redis:7\n"
        "  local:\n    <<: *built\n"
    )
    result = rewrite("docker-compose.yml", before)
    assert result.after == (
        f"x-app: &app\n  image: {C}/docker-hub/org/app:__TAG__\n  restart: always\n"
        "x-built: &built\n  image: local-build\n  build: ./src\n"
        "services:\n  web:\n    <<: *app\n    command: web\n"
        "  worker:\n    <<: [*app]\n    command: worker\n"
        f"  own:\n    <<: *app\n    image: {C}/docker-hub/library/redis:7\n"
        "  local:\n    <<: *built\n"
    )
    assert [(e.line, e.before) for e in result.edits] == [(2, "org/app:__TAG__"), (16, "redis:7")]
    assert result.warnings == ()


def test_compose_variable_behind_an_anchor_warned_once() -> None:
    before = 'x-s: &s\n  image: "$SNUBA_IMAGE"\nservices:\n  a:\n    <<: *s\n  b:\n    <<: *s\n'
    result = rewrite("compose.yaml", before)
    assert result.after == before
    assert result.warnings == ((2, "$SNUBA_IMAGE: the image name uses a variable; left unchanged"),)


INTERPOLATED = (
    "services:\n"
    "  a:\n    image: ${IMAGE:-ghcr.io/org/server}:${TAG:-2025.2}\n"
    "  b:\n    image: ${REGISTRY-docker.io}/library/nginx:1\n"
    "  c:\n    image: ${IMAGE:?required}\n"
)


def test_compose_interpolation_defaults_refused_by_default() -> None:
    result = rewrite("compose.yaml", INTERPOLATED)
    assert result.after == INTERPOLATED
    hint = (
        "the image name is a variable with a default; left unchanged "
        "(--interpolation-defaults rewrites the default)"
    )
    assert result.warnings == (
        (
            3,
            f"${{IMAGE:-ghcr.io/org/server}}:${{TAG:-2025.2}}: {hint}",
        ),
        (
            5,
            f"${{REGISTRY-docker.io}}/library/nginx:1: {hint}",
        ),
        (7, "${IMAGE:?required}: the image name uses a variable; left unchanged"),
    )


def test_compose_interpolation_defaults_rewrites_the_default() -> None:
    result = rewrite("compose.yaml", INTERPOLATED, interpolation_defaults=True)
    assert result.after == (
        "services:\n"
        f"  a:\n    image: ${{IMAGE:-{C}/github/org/server}}:${{TAG:-2025.2}}\n"
        f"  b:\n    image: ${{REGISTRY-{C}/docker-hub}}/library/nginx:1\n"
        "  c:\n    image: ${IMAGE:?required}\n"
    )
    assert result.warnings == (
        (7, "${IMAGE:?required}: the image name uses a variable; left unchanged"),
    )


@pytest.mark.parametrize(
    "value",
    [
        '"{{ .Values.init.repository }}:{{ .Values.init.tag }}"',
        "$(params.BUILDER_IMAGE)",
        '"{{inputs.parameters.os-image}}"',
        "'${{ matrix.image }}'",
    ],
)
def test_template_expressions_left_alone_and_said_so(value: str) -> None:
    before = f"spec:\n  steps:\n    - name: x\n      image: {value}\n"
    result = rewrite("task.yaml", before)
    assert result.after == before
    assert result.warnings == (
        (4, f"{value.strip(chr(34) + chr(39))}: a template expression, left alone"),
    )


def test_digest_pinned_references_rewritten_with_a_note() -> None:
    before = f"image: nginx:1@{D}\n---\nimage: gcr.io/x/y@{D}\n"
    result = rewrite("pod.yaml", before)
    assert (
        result.after == f"image: {C}/docker-hub/library/nginx:1@{D}\n---\nimage: gcr.io/x/y@{D}\n"
    )
    assert result.notes == ((1, f"nginx:1@{D}: {DIGEST_NOTE}"),)
    assert result.warnings == (
        (3, f"gcr.io/x/y@{D}: no pull-through cache rule for gcr.io; left unchanged"),
    )
    # Mapping back to the upstream needs no caveat.
    assert rewrite("pod.yaml", result.after, reverse=True).notes == ()


def test_digest_pinned_dockerfile_from() -> None:
    before = f"FROM alpine:3@{D} AS base\nFROM base\n"
    result = rewrite("Dockerfile", before)
    assert result.after == f"FROM {C}/docker-hub/library/alpine:3@{D} AS base\nFROM base\n"
    assert result.notes == ((1, f"alpine:3@{D}: {DIGEST_NOTE}"),)


def test_helm_anchor_scalar_rewritten_at_the_anchor_without_a_warning() -> None:
    before = "defaults:\n  img: &img quay.io/org/app:1\nimage: *img\nother:\n  image: *img\n"
    result = rewrite("values.yaml", before)
    assert result.after == (
        f"defaults:\n  img: &img {C}/quay/org/app:1\nimage: *img\nother:\n  image: *img\n"
    )
    assert result.warnings == ()


def test_dockerfile_stage_patterns_with_many_variables() -> None:
    """``FROM a-$V1-...-$V12`` is compared with each stage name in linear time (the old regex
    with one ``.*`` per variable ran for over a minute on this two-line file)."""
    name = "-".join(f"$V{i}" for i in range(12))
    text = f"FROM alpine AS {'x-' * 30}end\nFROM {name}-x\n"
    result = rewrite("Dockerfile", text)
    assert [e.before for e in result.edits] == ["alpine"]
    assert result.warnings == ((2, f"{name}-x: the image name uses a variable; left unchanged"),)


@pytest.mark.parametrize(
    ("pattern", "name", "match"),
    [
        ("binaries-$TARGETOS", "binaries-linux", True),
        ("binaries-$TARGETOS", "binaries", False),
        ("$A-mid-$B", "x-mid-y", True),
        ("$A-mid-$B", "x-mi-y", False),
        ("a${X}a", "a", False),
        ("a${X}a", "aa", True),
        ("$A-x", "x-x-end", False),
        ("${A}${B}", "", True),
        ("pre$A-$B-$Cpost", "pre-x--post", True),
    ],
)
def test_glob_match(pattern: str, name: str, match: bool) -> None:
    assert _glob_match(VARIABLE.split(pattern), name) is match


def test_every_document_of_a_long_stream_is_rewritten() -> None:
    """Documents are parsed one at a time and freed: nothing learnt about one (which nodes were
    handled, by id) may leak into the next, whose nodes reuse the ids."""
    doc = (
        "---\nkind: Pod\nspec:\n  initContainers:\n  - image: busybox:{i}\n    args: [a, b]\n"
        "  containers:\n  - image: nginx:{i}\n    env: {{A: b}}\n"
    )
    text = "".join(doc.format(i=i) for i in range(1000))
    result = rewrite("all.yaml", text)
    assert [e.before for e in result.edits] == [
        f"{name}:{i}" for i in range(1000) for name in ("busybox", "nginx")
    ]
    assert result.after == text.replace("image: ", f"image: {C}/docker-hub/library/")


@pytest.mark.parametrize(
    "before",
    [
        "\ufeffimage: nginx\n",
        '# 😀 é\r\nname: "😀"\r\nimage: nginx\r\n',
        "a: 1\n---\n\ufeffimage: nginx\n",
    ],
    ids=["byte order mark", "astral characters and CRLF", "mark on a later document"],
)
def test_offsets_hold_past_marks_astral_characters_and_crlf(before: str) -> None:
    """libyaml counts characters as Python does, except a leading byte order mark."""
    assert rewrite("v.yaml", before).after == before.replace(
        "nginx", f"{C}/docker-hub/library/nginx"
    )
