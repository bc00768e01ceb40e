-- 005: the poster's language, chosen when the ad is submitted (the page's language, else the
-- request's Accept-Language, else DEFAULT_LANGUAGE). Every e-mail about the ad is written in it,
-- including those an operator's decision sends later. Ads from before this migration were
-- submitted in English.
alter table ads add column lang text not null default 'en' check (lang in ('fa', 'en'));
