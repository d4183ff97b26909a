from django.urls import path

from audits.notifications import views

app_name = "notifications"

urlpatterns = [
    path("teams/<slug:slug>/notifications/", views.team_notifications, name="team"),
    path("teams/<slug:slug>/notifications/<int:channel_id>/resume/", views.channel_resume, name="channel-resume"),
    path("teams/<slug:slug>/notifications/<int:channel_id>/delete/", views.channel_delete, name="channel-delete"),
    path("account/notifications/", views.preference_save, name="preference"),
]
