"""The partners domain: partners, their tax ids and onboarding status, who may trade with whom."""
