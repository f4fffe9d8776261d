"""The scenario and its inputs.

The scenario: its schema, the validated frozen :class:`~siting.config.scenario.Scenario`,
and the discovery of real versus generated inputs. Read by every stage; imports no stage.
"""
