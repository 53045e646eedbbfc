"""What a host might talk about with their visitor on the shadow day: three to five questions in plain words, filled
with the briefing's own signals and the occupation's tasks (our templates; the words quoted are the items' and the
ILO's)."""

from __future__ import annotations

from shadowmatch_kb.brief.model import Briefing, rated_low, still_open
from shadowmatch_kb.brief.overview import quotable, short_task

__all__ = ["prompts_for"]


def prompts_for(briefing: Briefing) -> list[str]:
    """Three to five questions to talk about during the shadow day, in plain words."""
    prompts: list[str] = []
    signals = briefing.signals
    if signals and briefing.only_closest:  # the nearest there is, not news of their work: not asked as if it were
        prompts.append(
            f'The closest change found: "{quotable(signals[0].signal)}". Could something like it reach your work? '
            "What would it change in your day?"
        )
    elif signals:
        prompts.append(
            f'Talk about "{quotable(signals[0].signal)}". Does it match what you see at work? What would it change in '
            "your day?"
        )
    occupation = briefing.occupations[0] if briefing.occupations else None
    # The ILO lists the tasks of a whole group of occupations: a written translator does not interpret at
    # conferences, a contracts solicitor may never plead in court. The host shows a task only if it is theirs.
    if occupation and occupation.get("most_exposed_tasks"):
        task = short_task(occupation["most_exposed_tasks"][0]["task"])
        # Even its "most open" task rated low: ask whether AI helps at all.
        ask = (
            "Could a chatbot help with any part of it?"
            if rated_low(occupation)
            else "Which parts could AI help with? Who checks the result?"
        )
        prompts.append(f'If you do this task, show it to your visitor: "{task}". {ask}')
    if occupation and occupation.get("least_exposed_tasks"):
        task = short_task(occupation["least_exposed_tasks"][0]["task"])
        if still_open(occupation):  # least open in this job, yet more open than most tasks: not a safe harbour
            prompts.append(
                "Of this job's tasks the ILO rates this one least open to generative AI, though more open than most: "
                f'"{task}". If you do it, which part of it could AI take on in ten years?'
            )
        else:
            prompts.append(
                f'The ILO rates this task least open to generative AI: "{task}". If you do it, is it still yours in '
                "ten years? What other technology could change it?"
            )
    if len(signals) > 1:
        prompts.append(
            f'Ask your visitor what they make of "{quotable(signals[1].signal)}". Would it change what they want to '
            "learn?"
        )
    if len(prompts) < 4:
        prompts.append("Which skills do you use most today? Which would you learn first if you started now?")
    if len(prompts) < 3:
        prompts.append(
            "Walk through a normal day together. Which tasks take the most time? Which could a computer help with?"
        )
    if len(prompts) < 3:
        prompts.append("Ask your visitor what they would like to learn from you that no machine could teach them.")
    return prompts[:5]
