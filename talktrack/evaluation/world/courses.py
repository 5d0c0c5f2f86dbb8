"""The course catalogue: one or two courses per capability dimension in each language."""

from __future__ import annotations

from talktrack.evaluation.world.lexicon import lexicon
from talktrack.evaluation.world.records import Course
from talktrack.evaluation.world.spec import WorldSpec

DURATIONS_H = (1.5, 2.0, 3.0, 4.0, 6.0)
LMS_URL = "https://learn.northwind-demo.example/courses/{course_id}"


def make_courses(spec: WorldSpec, dimensions: tuple[str, ...]) -> list[Course]:
    """Courses in the order dimension, language, title; a dimension the lexicon does not
    know gets a course titled after its key."""
    courses = []
    for dimension in dimensions:
        for language in spec.languages:
            titles = lexicon(language).COURSES.get(dimension, (dimension.replace("_", " ").title(),))
            for title in titles:
                course_id = f"COURSE-{len(courses) + 1:02d}"
                courses.append(Course(course_id, title, dimension, language,
                                      DURATIONS_H[len(courses) % len(DURATIONS_H)],
                                      LMS_URL.format(course_id=course_id.lower())))
    return courses
