-- 0027: resources (issue 15 item 4): rooms and equipment. A resource is an
-- account (it owns DAV calendars, so scheduling stores its bookings like a
-- user's) with one row here marking it as a resource and holding its
-- booking policy. Deleting the account deletes the resource.
-- Never edit this file once it has landed: add a new migration instead.

CREATE TABLE resources (
	account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	kind text NOT NULL DEFAULT 'room'
		CONSTRAINT resources_kind_known CHECK (kind IN ('room', 'equipment')),
	-- People it holds (rooms) or serves; 0 = not limited.
	capacity integer NOT NULL DEFAULT 0
		CONSTRAINT resources_capacity_range CHECK (capacity BETWEEN 0 AND 100000),
	location text NOT NULL DEFAULT ''
		CONSTRAINT resources_location_length CHECK (length(location) <= 256),
	-- auto: accept when free, decline otherwise; manual: requests that pass
	-- the checks wait (NEEDS-ACTION) for the delegate; none: no automatic
	-- answer at all (the resource's calendar is managed by hand).
	policy text NOT NULL DEFAULT 'auto'
		CONSTRAINT resources_policy_known CHECK (policy IN ('auto', 'manual', 'none')),
	-- Bookings may reach at most this many days ahead; 0 = no limit.
	window_days integer NOT NULL DEFAULT 0
		CONSTRAINT resources_window_days_range CHECK (window_days BETWEEN 0 AND 36600),
	-- true: anyone may book; false: only the addresses and groups in
	-- resource_bookers (none listed = nobody).
	bookers_everyone boolean NOT NULL DEFAULT true,
	-- Who approves in manual mode (an address; '' = nobody).
	delegate text NOT NULL DEFAULT ''
		CONSTRAINT resources_delegate_lower CHECK (delegate = lower(delegate))
		CONSTRAINT resources_delegate_length CHECK (length(delegate) <= 320),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resources_kind ON resources (kind);

-- Who may book a resource that is not open to everyone: user addresses or
-- group addresses (a group's members, nested, may book).
CREATE TABLE resource_bookers (
	account_id bigint NOT NULL REFERENCES resources (account_id) ON DELETE CASCADE,
	booker text NOT NULL
		CONSTRAINT resource_bookers_booker_lower CHECK (booker = lower(booker))
		CONSTRAINT resource_bookers_booker_length CHECK (length(booker) BETWEEN 3 AND 320),
	PRIMARY KEY (account_id, booker)
);
