from test_imap_acl_attack import *  # noqa


def test_probe(world):
    env, o, r = world
    o.ok(f'SETACL "Proj" "{READER}" "lrs"')
    for who, box in ((o, "Proj"), (r, SHARED)):
        c = Client(env, who.user)
        c.ok(f'SELECT "{box}"')
        c.ok("NOTIFY SET (SELECTED (MessageNew (UID FLAGS ENVELOPE) MessageExpunge FlagChange))")
        assert o.cmd('APPEND "Proj" ()', msg(8, "first"))[0] == "OK"
        print(who.user, "1:", repr(c.drain(5.0, until="first")))
        assert o.cmd('APPEND "Proj" ()', msg(9, "second"))[0] == "OK"
        print(who.user, "2:", repr(c.drain(5.0, until="second")))
        c.close()
    assert False
