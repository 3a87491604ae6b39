# bench/ticket.sh: prints the ticket every benchmark stores, about 2 KB of
# JSON: an ASP.NET Core authentication ticket as Duende's server-side
# sessions serialize it (scheme, claims, properties), for one user.
# Sourced by bench/run (function bench_ticket).
bench_ticket() {
	local claims="" n
	for n in 01 02 03 04 05 06 07 08 09 10 11; do
		claims="$claims"'{"Type":"role","Value":"app-role-'"$n"'-readers-and-writers","ValueType":"http://www.w3.org/2001/XMLSchema#string"},'
	done
	printf '%s' '{"Version":1,"Scheme":"idsrv","User":{"AuthenticationType":"pwd","Claims":[' \
		'{"Type":"sub","Value":"acme|000012345"},' \
		'{"Type":"name","Value":"Grace Hopper"},' \
		'{"Type":"email","Value":"grace.hopper@acme.example"},' \
		'{"Type":"email_verified","Value":"true","ValueType":"http://www.w3.org/2001/XMLSchema#boolean"},' \
		'{"Type":"amr","Value":"pwd"},{"Type":"amr","Value":"mfa"},' \
		'{"Type":"idp","Value":"local"},' \
		'{"Type":"auth_time","Value":"1700000000","ValueType":"http://www.w3.org/2001/XMLSchema#integer64"},' \
		"$claims" \
		'{"Type":"tenant","Value":"acme"}]},' \
		'"Properties":{"Items":{".issued":"Tue, 14 Nov 2023 22:13:20 GMT",".expires":"Tue, 28 Nov 2023 22:13:20 GMT",' \
		'"session_id":"0F1E2D3C4B5A69788796A5B4C3D2E1F0",".persistent":"","client_list":"WyJwb3J0YWwiLCJwYXlyb2xsIl0"}}}'
}
