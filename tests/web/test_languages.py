"""The interface and the rubric in Spanish, the language switcher and the browser's language."""

from __future__ import annotations


def test_spanish_pages_translate_the_interface_and_the_rubric(draft, editor, rubric, signed_in):
    client = signed_in(editor)
    content = client.get(f"/audits/{draft.pk}/", headers={"accept-language": "es"}).content.decode()
    assert '<html lang="es">' in content
    assert "Puntuación actual" in content
    assert "Manual, documentado y compartido" in content
    item = rubric.items.order_by("section__order", "order").first()
    assert item.localized("title", "es") != item.title
    assert item.localized("title", "es") in content
    assert item.section.localized("title", "es") in content


def test_the_language_switcher_stores_the_choice(manager, signed_in):
    client = signed_in(manager)
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/projects/"})
    assert response.status_code == 302
    assert "Proyectos" in client.get("/projects/").content.decode()


def test_browser_language_is_the_default(manager, signed_in):
    content = signed_in(manager).get("/projects/", headers={"accept-language": "es-ES,es;q=0.9"}).content.decode()
    assert "Nuevo proyecto" in content
