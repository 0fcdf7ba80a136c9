from django.urls import path

from workshops.views import engagements

urlpatterns = [
    path("", engagements.home, name="home"),
    path("healthz", engagements.healthz, name="healthz"),
    path("e/<slug:slug>/", engagements.dashboard, name="dashboard"),
]

from workshops.views import artifacts  # noqa: E402  (kept apart: other areas add their imports above)

# The artifacts, for the working draft (e/<slug>/artifacts/...) and for each frozen version
# (e/<slug>/versions/<number>/artifacts/...): the same views, `number` absent for the draft.
_ARTIFACT_ROUTES = [
    ("", artifacts.artifacts_page, "artifacts", {}),
    ("ladder.svg", artifacts.ladder_download, "ladder_svg", {"format": "svg"}),
    ("ladder.png", artifacts.ladder_download, "ladder_png", {"format": "png"}),
    ("threshold-register.csv", artifacts.register_csv, "register_csv", {}),
    ("failure-mode-matrix.csv", artifacts.matrix_csv, "matrix_csv", {}),
    ("reviews.ics", artifacts.reviews_ics, "reviews_ics", {}),
    ("framework.json", artifacts.framework_json, "framework_json", {}),
    ("pack/", artifacts.pack_page, "pack", {}),
    ("pack/generate", artifacts.generate_pack, "pack_generate", {}),
]
for _suffix, _view, _name, _kwargs in _ARTIFACT_ROUTES:
    urlpatterns += [
        path(f"e/<slug:slug>/artifacts/{_suffix}", _view, _kwargs, name=_name),
        path(
            f"e/<slug:slug>/versions/<int:number>/artifacts/{_suffix}",
            _view,
            _kwargs,
            name=f"version_{_name}",
        ),
    ]
urlpatterns.append(
    path(
        "e/<slug:slug>/packs/<uuid:public_id>.pdf",
        artifacts.pack_download,
        name="pack_download",
    )
)
